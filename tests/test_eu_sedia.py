"""EU Funding & Tenders spider: real engine, replayed responses, both metadata shapes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from crawlers.replay import RECORDINGS_DIR
from crawlers.spiders.eu_sedia import as_list, budget_for, multipart_body
from models import Opportunity, SourceRun
from models.db import session_factory
from tests.conftest import shared_path
from tests.crawl_helpers import run_spider, write_manifest

API = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"


def test_keywords_in_both_shapes():
    assert as_list({"keywords": ["a", "b"]}, "keywords") == ["a", "b"]
    assert as_list({"keywords": ['["a","b","a"]']}, "keywords") == ["a", "b"]
    assert as_list({}, "keywords") == []


def test_budget_inside_a_string_complete_and_truncated():
    full = json.dumps({"budgetTopicActionMap": {"1": [
        {"action": "T-1 - Grant", "minContribution": 100, "maxContribution": 300},
        {"action": "T-2 - Grant", "minContribution": 5, "maxContribution": 6}]}}, separators=(",", ":"))
    assert budget_for("T-1", full) == (100.0, 300.0, False)
    cut = full[: full.index('"maxContribution":6') + 10]  # cut inside T-2's entry
    assert budget_for("T-1", cut) == (100.0, 300.0, True)
    assert budget_for("T-2", cut) == (None, None, True)


def test_request_body_uses_json_file_parts():
    body = multipart_body({"query": {"bool": {}}, "languages": ["en"]}).decode()
    assert 'name="query"; filename="blob"' in body and "Content-Type: application/json" in body


def test_project_recording_crawls_every_page(sqlite_url):
    proc = run_spider("eu_sedia", [RECORDINGS_DIR / "eu_sedia"], sqlite_url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with session_factory(sqlite_url)() as s:
        rows = {o.source_id: o for o in s.scalars(select(Opportunity))}
        run = s.scalars(select(SourceRun)).one()
    assert len(rows) == 20  # 22 rows on 3 pages, one stub and one repeat
    assert run.status == "ok" and run.healthy and run.items_new == 20 and run.items_dropped == 0
    colombia = rows["EuropeAid-186730-DD-ACT-CO"]
    assert colombia.status == "open" and colombia.deadline is not None  # the later stub did not erase it
    assert colombia.eligible_countries == ["CO"] and colombia.amount_max == 1_500_000 and colombia.currency == "EUR"
    assert "local_government" in colombia.eligible_applicants and "private" not in colombia.eligible_applicants
    two_stage = rows["HORIZON-CL6-2027-CIRCBIO-02-03"]
    assert len(two_stage.deadlines) == 2
    truncated = rows["HORIZON-MISS-2027-SOIL-02-04"]
    assert truncated.amount_max is None  # its budget entry was cut short: unknown, not guessed
    shape_b = rows["HORIZON-CL2-2027-TRANSFORMATIONS-01-06"]
    assert "Cultural heritage" in shape_b.topics
    assert shape_b.url.endswith("/topic-details/HORIZON-CL2-2027-TRANSFORMATIONS-01-06")
    assert rows["EU-TENDER-2026-CO-TA-MOBILITY"].cooperation_type == "procurement"
    assert rows["HORIZON-CL5-2026-D4-02-02"].status == "closed"


def test_malformed_page_is_skipped_and_the_rest_goes_on(sqlite_url, tmp_path: Path):
    folder = tmp_path / "eu_sedia"
    folder.mkdir()
    for n in (1, 3):
        shutil.copy(RECORDINGS_DIR / "eu_sedia" / f"search_page{n}.json", folder / f"search_page{n}.json")
    page2 = (RECORDINGS_DIR / "eu_sedia" / "search_page2.json").read_text(encoding="utf-8")
    (folder / "search_page2.json").write_text(page2[: len(page2) // 2], encoding="utf-8")  # cut mid-record
    write_manifest(folder, "eu_sedia", [
        {"request": {"method": "POST", "url": API, "query": {"pageNumber": str(n)}},
         "response": {"status": 200, "content_type": "application/json", "file": f"search_page{n}.json"}}
        for n in (1, 2, 3)
    ], {"page_size": "10"})
    proc = run_spider("eu_sedia", [folder], sqlite_url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "invalid_json" in proc.stderr
    with session_factory(sqlite_url)() as s:
        ids = set(s.scalars(select(Opportunity.source_id)))
        run = s.scalars(select(SourceRun)).one()
    assert len(ids) == 12  # 8 from page 1, 4 new ones on page 3
    assert run.errors >= 1 and run.status == "ok"


def test_real_recorded_sample_parses(sqlite_url, tmp_path: Path):
    sample = shared_path("data", "recorded", "eu_sedia", "search_topics_page1_trimmed.json")
    folder = tmp_path / "real"
    folder.mkdir()
    shutil.copy(sample, folder / "page1.json")
    write_manifest(folder, "eu_sedia", [{"request": {"method": "POST", "url": API, "query": {"pageNumber": "1"}},
                                          "response": {"status": 200, "content_type": "application/json", "file": "page1.json"}}])
    proc = run_spider("eu_sedia", [folder], sqlite_url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with session_factory(sqlite_url)() as s:
        rows = {o.source_id: o for o in s.scalars(select(Opportunity))}
    assert set(rows) == {"HORIZON-MISS-2027-05-SOIL-01-two-stage", "HORIZON-CL2-2024-TRANSFORMATIONS-01-08"}
    soil = rows["HORIZON-MISS-2027-05-SOIL-01-two-stage"]
    assert [d[:10] for d in soil.deadlines] == ["2027-04-08", "2027-09-14"]
    assert soil.status == "forthcoming" and soil.amount_max is None  # its budget entry lies past the cut
    assert "Soil biodiversity" in soil.topics
    arts = rows["HORIZON-CL2-2024-TRANSFORMATIONS-01-08"]
    assert "Gender research" in arts.topics  # keywords came as one JSON string
    assert arts.url.endswith("/topic-details/HORIZON-CL2-2024-TRANSFORMATIONS-01-08")
    assert arts.deadline.year == 2024
