"""One weekly cycle end to end: real Scrapy engine, real model, real SQLite, digests parsed back."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from sqlalchemy import func, select

from convoca.demo import run_demo
from convoca.settings import Settings
from models import DigestLedger, Match, Opportunity
from models.db import session_factory


def test_demo_cycle_end_to_end(tmp_path: Path):
    settings = Settings(outbox_dir=tmp_path / "outbox", _env_file=None)  # type: ignore[call-arg]
    messages: list[str] = []
    report = run_demo(settings, workdir=tmp_path / "demo", say=messages.append)

    assert report.config_issues == []
    assert [c.exit_code for c in report.crawls] == [0] * len(report.crawls)
    crawled = {c.source for c in report.crawls}
    assert {"eu_sedia", "grants_gov", "worldbank", "secop", "fundsforngos", "aci_medellin", "minciencias",
            "apccolombia", "undp", "idb_lab", "gobernacion_antioquia"} <= crawled
    assert all(c.run.get("healthy") for c in report.crawls)
    assert report.merged_links >= 4  # the same calls published by two sources are one opportunity each
    assert report.matching is not None and report.matching.above_threshold > 0
    assert set(report.matching.by_municipality) >= {"medellin", "amva", "envigado"}
    assert len(report.ranked) > 0 and report.ranked == sorted(
        report.ranked, key=lambda r: (r.municipality, -r.score))

    with session_factory(report.database_url)() as s:
        assert s.scalar(select(func.count()).select_from(Opportunity)) >= 20
        titles = set(s.scalars(select(Opportunity.title)))
        sent = s.scalars(select(DigestLedger).where(DigestLedger.status == "sent")).all()
        assert s.scalar(select(func.count()).select_from(Match).where(Match.above_threshold.is_(True))) > 0

    files = sorted(report.outbox.glob("*.eml"))
    assert len(files) == len(sent) > 0
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["Subject"].startswith("Convoca · ") and "convocatoria" in msg["Subject"]
        assert msg["Message-ID"] and msg["To"] and msg["Date"]
        assert msg.get_content_type() == "multipart/mixed"  # the alternative bodies, then the .ics
        assert [p.get_content_type() for p in msg.iter_parts()] == ["multipart/alternative", "text/calendar"]
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        assert plain is not None and html is not None
        text, markup = plain.get_content(), html.get_content()
        listed = [t for t in titles if f"1. {t}" in text]
        assert listed, f"no ranked item in {path.name}"
        assert listed[0].replace("&", "&amp;") in markup or listed[0] in markup
        assert "<script" not in markup.lower()
    assert any("5/5" in m for m in messages)
    # The demo leaves a web account that can sign in to its municipality's match list.
    from web.accounts import authenticate
    with session_factory(report.database_url)() as s:
        username, slug = report.web_accounts[0]
        user = authenticate(s, username, report.web_password)
        assert user is not None and user.municipality.slug == slug
