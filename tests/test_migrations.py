"""The Alembic migrations build the schema on both backends and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import models
from models.db import get_engine
from models.migrate import alembic_config, current_heads


def test_upgrade_builds_every_table_and_reaches_head(db_url: str):
    tables = set(inspect(get_engine(db_url)).get_table_names())
    assert set(models.Base.metadata.tables) <= tables
    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    assert current_heads(db_url) == {head}


def test_migrations_match_the_models(db_url: str):
    with get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), models.Base.metadata)
    assert diff == []


def test_empty_sqlite_file_is_created_and_migrated(tmp_path):
    from models.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'nuevo' / 'x.db'}"
    (tmp_path / "nuevo").mkdir()
    upgrade(url)
    assert "opportunity" in inspect(get_engine(url)).get_table_names()
