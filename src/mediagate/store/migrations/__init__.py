"""Alembic migrations for mediagate's schema."""
