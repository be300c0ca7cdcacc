"""The one engine and session factory. Services take a Session; only entry points build one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _json_dumps(value: Any) -> str:
    # Matching writes a JSON explanation per stored match; orjson keeps that off the critical path.
    return orjson.dumps(value, option=_ORJSON_OPTIONS).decode()


_JSON = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, open transactions, so SAVEPOINTs work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the web page read while a crawl writes; busy_timeout rides out short write locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **_JSON)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    else:
        engine = create_engine(url, pool_pre_ping=True, **_JSON)
    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@lru_cache(maxsize=8)
def _writer_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30}, **_JSON)
    event.listen(engine, "connect", _sqlite_pragmas)
    # IMMEDIATE takes SQLite's write lock when the transaction starts. A deferred transaction
    # that reads first and writes later fails at once ("database is locked", no busy wait)
    # when another process wrote in between; that is the crawl pattern, so crawls use this.
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def writer_session_factory(url: str) -> sessionmaker[Session]:
    """Sessions for processes that write while others write too (crawls): on SQLite every
    transaction takes the write lock at its start and waits for it; elsewhere the usual ones."""
    if not url.startswith("sqlite"):
        return session_factory(url)
    return sessionmaker(bind=_writer_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
