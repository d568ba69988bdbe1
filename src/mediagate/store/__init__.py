"""Persistence: SQL tables, queries and migrations. The only package that writes SQL."""
