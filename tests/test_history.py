"""Change history through the real engine: re-crawling unchanged pages writes nothing; a moved
deadline writes exactly one version row; calls no longer listed are kept."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from sqlalchemy import func, select

from crawlers.replay import RECORDINGS_DIR
from models import Opportunity, OpportunityVersion, Source, SourceRun
from models.db import session_factory
from tests.crawl_helpers import run_spider


def crawl(folder: Path, url: str) -> None:
    proc = run_spider("minciencias", [folder], url)
    assert proc.returncode == 0, proc.stderr[-3000:]


def last_run(url: str) -> SourceRun:
    with session_factory(url)() as s:
        return s.scalars(select(SourceRun).join(Source).order_by(SourceRun.id.desc()).limit(1)).one()


def versions(url: str) -> list[OpportunityVersion]:
    with session_factory(url)() as s:
        return list(s.scalars(select(OpportunityVersion)))


def test_second_crawl_of_unchanged_pages_writes_no_version(sqlite_url):
    crawl(RECORDINGS_DIR / "minciencias", sqlite_url)
    with session_factory(sqlite_url)() as s:
        first_seen = {o.source_id: (o.first_seen_at, o.last_seen_at) for o in s.scalars(select(Opportunity))}
    crawl(RECORDINGS_DIR / "minciencias", sqlite_url)
    assert versions(sqlite_url) == []
    run = last_run(sqlite_url)
    assert (run.items_seen, run.items_new, run.items_changed, run.items_unchanged) == (8, 0, 0, 8)
    with session_factory(sqlite_url)() as s:
        for o in s.scalars(select(Opportunity)):
            assert o.first_seen_at == first_seen[o.source_id][0]
            assert o.last_seen_at > first_seen[o.source_id][1] and o.last_changed_at == o.first_seen_at


def test_a_moved_deadline_writes_exactly_one_version(sqlite_url, tmp_path):
    crawl(RECORDINGS_DIR / "minciencias", sqlite_url)
    changed = tmp_path / "minciencias"
    shutil.copytree(RECORDINGS_DIR / "minciencias", changed)
    page = changed / "convocatoria_1012.html"
    text = page.read_text(encoding="utf-8")
    assert "viernes 26 marzo 2027 04:00 pm" in text
    page.write_text(text.replace("viernes 26 marzo 2027 04:00 pm", "viernes 16 abril 2027 04:00 pm"), encoding="utf-8")
    crawl(changed, sqlite_url)
    rows = versions(sqlite_url)
    assert [(v.field, v.old_value[:16], v.new_value[:16]) for v in rows] == [
        ("deadline", "2027-03-26T21:00", "2027-04-16T21:00")]
    run = last_run(sqlite_url)
    assert (run.items_changed, run.items_unchanged) == (1, 7)
    assert rows[0].source_run_id == run.id
    with session_factory(sqlite_url)() as s:
        call = s.scalars(select(Opportunity).where(Opportunity.source_id == "1012")).one()
        assert call.last_changed_at > call.first_seen_at and call.deadlines[0].startswith("2027-04-16")


def test_a_call_no_longer_listed_is_kept(sqlite_url, tmp_path):
    crawl(RECORDINGS_DIR / "minciencias", sqlite_url)
    shorter = tmp_path / "minciencias"
    shutil.copytree(RECORDINGS_DIR / "minciencias", shorter)
    # The second listing page disappears: the site now answers 404 for it.
    manifest = yaml.safe_load((shorter / "manifest.yaml").read_text(encoding="utf-8"))
    for entry in manifest["responses"]:
        if entry["response"]["file"] == "todas_page1.html":
            entry["response"] = {"status": 404, "content_type": "text/html", "file": "missing.html"}
    (shorter / "manifest.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    (shorter / "missing.html").write_text("<html><body>No encontrado</body></html>", encoding="utf-8")
    proc = run_spider("minciencias", [shorter], sqlite_url)
    with session_factory(sqlite_url)() as s:
        assert s.scalar(select(func.count()).select_from(Opportunity)) == 8
    run = last_run(sqlite_url)
    assert run.items_seen == 5 and run.errors >= 1, proc.stderr[-2000:]
