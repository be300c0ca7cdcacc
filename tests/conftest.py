"""Shared fixtures: real databases (SQLite and PostgreSQL), the replay server, the real model."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from convoca.settings import Settings
from models.db import get_engine, session_factory
from models.migrate import upgrade

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = REPO.parent / "shared"
PG_ADMIN_URL = os.environ.get("CONVOCA_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


def _pg_admin():
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test copies (CREATE DATABASE … TEMPLATE)."""
    try:
        admin = _pg_admin()
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - report why, then skip
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    name = f"convoca_tpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _pg_url(name)
    upgrade(url)
    get_engine(url).dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_pg(template: str) -> Iterator[str]:
    admin = _pg_admin()
    name = f"convoca_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = _pg_url(name)
    yield url
    get_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'convoca.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'convoca.db'}"
        upgrade(url)
        yield url
        get_engine(url).dispose()
    else:
        template = request.getfixturevalue("pg_template")
        yield from _fresh_pg(template)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with session_factory(db_url)() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(database_url=db_url, outbox_dir=tmp_path / "outbox", download_delay=0.0,
                    _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def use_embedder():
    """The real multilingual model, loaded once for the whole run."""
    from matcher.embedding import make_embedder

    return make_embedder("use-multilingual", threads=2)


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is only beside the developers' checkout)")
    return path
