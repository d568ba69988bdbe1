"""Console sessions signed out before their cookie expires: a signed cookie stays valid until
its expiry, so signing out records the session here and every console request checks it."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from mediagate.store.db import Database
from mediagate.store.schema import ended_sessions


def session_id(csrf: str) -> str:
    """The id a session is recorded under: a hash of its random token, never the token."""
    return hashlib.sha256(f"session:{csrf}".encode()).hexdigest()


class SessionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def end(self, csrf: str, until: float, now: float) -> None:
        """Record the session as ended (until its cookie would have expired anyway), and
        forget the ones already past that."""
        sid = session_id(csrf)
        async with self._db.write() as conn:
            await conn.execute(ended_sessions.delete().where(ended_sessions.c.until < now))
            await conn.execute(ended_sessions.delete().where(ended_sessions.c.id == sid))
            await conn.execute(ended_sessions.insert().values(id=sid, until=until))

    async def ended(self, csrf: str) -> bool:
        async with self._db.read() as conn:
            found = await conn.execute(
                sa.select(ended_sessions.c.id).where(ended_sessions.c.id == session_id(csrf))
            )
            return found.first() is not None
