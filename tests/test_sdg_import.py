"""`convoca sdg import`: official texts from the UN SDG API JSON or the CSV layout, into the database,
where the tagger uses them to name targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from convoca.cli import app
from convoca.errors import MatchError
from matcher.sdg_import import import_sdg_texts
from matcher.service import official_prototypes
from models import SdgText
from tests.conftest import shared_path

# Written for the test in the API's shape (codes and structure as the API serves them).
API_JSON = [
    {"code": "6", "title": "Water goal (test text)", "description": "A test description of the water goal.",
     "targets": [{"code": "6.1", "title": "Test wording for the drinking-water target."},
                 {"code": "6.9", "title": "Not a real target code."}]},
    {"code": "11", "title": "Cities goal (test text)", "targets": [{"code": "11.2", "title": "Test wording for transport."}]},
]


def test_import_api_json_then_replace(tmp_path: Path, session):
    path = tmp_path / "goals.json"
    path.write_text(json.dumps(API_JSON), encoding="utf-8")
    result = import_sdg_texts(session, path)
    assert result.stored == 4 and result.source == "un-sdg-api" and result.languages == ["en"]
    assert any("6.9" in reason for reason in result.skipped)
    again = import_sdg_texts(session, path)  # same source again: replaced, not duplicated
    assert again.stored == 4
    assert session.scalar(select(func.count()).select_from(SdgText)) == 4
    protos = official_prototypes(session)
    assert {p.target for p in protos} == {"6.1", "11.2"} and all(p.origin == "official" for p in protos)


def test_import_csv_layout(tmp_path: Path, session):
    path = tmp_path / "targets.csv"
    path.write_text("goal,target,title_en,title_es\n1,1.1,Test English text,Texto de prueba\n1,x.9,bad,mala\n",
                    encoding="utf-8")
    result = import_sdg_texts(session, path)
    assert result.stored == 2 and result.languages == ["en", "es"] and len(result.skipped) == 1


def test_import_shared_official_csv(session):
    path = shared_path("data", "sdg", "sdg_targets.csv")
    result = import_sdg_texts(session, path)
    assert result.stored == 169 * 2


def test_bad_files(tmp_path: Path, session):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(MatchError, match="not valid JSON"):
        import_sdg_texts(session, broken)
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    with pytest.raises(MatchError, match="no goal or target"):
        import_sdg_texts(session, empty)


def test_cli_sdg_import(tmp_path: Path, db_url: str, monkeypatch):
    path = tmp_path / "goals.json"
    path.write_text(json.dumps(API_JSON), encoding="utf-8")
    monkeypatch.setenv("CONVOCA_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["sdg", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 textos oficiales" in result.output
    assert CliRunner().invoke(app, ["sdg", "import", str(tmp_path / "missing.json")]).exit_code == 2
