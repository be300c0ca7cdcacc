"""One scheduler leader per database (DESIGN §8).

Several `convoca scheduler` processes may run for availability; only the holder of the lock
runs jobs, the others wait on standby and take over when the leader goes away. On PostgreSQL
the lock is a session-level advisory lock held on a dedicated connection: the server frees it
when the leader's connection drops, even after a crash. On SQLite (one machine by nature) it
is an exclusive lock on a file beside the database.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

import structlog
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from models.db import get_engine

log = structlog.stdlib.get_logger("convoca.leader")

# pg advisory locks take a bigint; this one spells "Convoca" in ASCII.
ADVISORY_KEY = 0x436F6E766F6361


class LeaderLock:
    def __init__(self, database_url: str):
        self.database_url = database_url
        self.backend = make_url(database_url).get_backend_name()
        self._conn: Connection | None = None
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def _lock_path(self) -> Path | None:
        database = make_url(self.database_url).database
        if not database or database == ":memory:":
            return None
        return Path(f"{database}.scheduler.lock")

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self.backend == "postgresql":
            conn = get_engine(self.database_url).connect()
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}).scalar())
                conn.commit()  # the lock is session-level: it outlives the transaction
            except SQLAlchemyError:
                conn.close()
                raise
            if not got:
                conn.close()
                return False
            self._conn = conn
            return True
        path = self._lock_path()
        if path is None:
            self._file = open(os.devnull, "w")  # an in-memory database has one process by definition
            return True
        handle = open(path, "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def alive(self) -> bool:
        """Whether the lock is still ours: on PostgreSQL, whether its connection still answers."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            except SQLAlchemyError as exc:
                log.error("leader_connection_lost", error=str(exc))
                return False
        return self._file is not None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                self._conn.commit()
            except SQLAlchemyError as exc:
                log.warning("leader_unlock_failed", error=str(exc))
            finally:
                self._conn.close()
                self._conn = None
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None
