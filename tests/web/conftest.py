"""Web fixtures: one seeded SQLite database per session (real matcher), copied for each test."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from convoca.settings import Settings
from models.db import get_engine
from models.migrate import upgrade
from tests.web.seed import Seeded, seed
from web.app import create_app

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web-seed") / "seed.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    seed(url, web_settings(url))
    get_engine(url).dispose()
    return path


def web_settings(url: str) -> Settings:
    return Settings(database_url=url, secret_key="clave-de-sesion-de-pruebas", base_url="https://convoca.example.org",
                    _env_file=None)  # type: ignore[call-arg]


def copy_database(source: Path, target: Path) -> str:
    """A consistent copy (the backup API folds the WAL in), so each test mutates its own file."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{target}"


@pytest.fixture
def seeded(seeded_file: Path, tmp_path: Path) -> Iterator[Seeded]:
    url = copy_database(seeded_file, tmp_path / "web.db")
    yield Seeded(url)
    get_engine(url).dispose()


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(web_settings(seeded.database_url)), base_url="https://testserver") as c:
        yield c


def csrf_of(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str, *, follow: bool = False):
    token = csrf_of(client.get("/ingresar").text)
    return client.post("/ingresar", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=follow)
