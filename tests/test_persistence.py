"""Upsert keyed by (source, source_id) with version rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from crawlers.items import Opportunity as Data
from crawlers.persistence import upsert_opportunity
from models import Opportunity, OpportunityLink, OpportunityVersion

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def call(**over) -> Data:
    base = dict(source="eu_sedia", source_id="TOPIC-1", url="https://ec.europa.eu/x/topic-details/TOPIC-1",
                title="Urban mobility call", description="Cycling lanes for cities.", language="en",
                status="open", deadline=NOW + timedelta(days=90), deadlines=[NOW + timedelta(days=90)],
                amount_max=1_000_000.0, currency="EUR", cooperation_type="financial_non_reimbursable")
    base.update(over)
    return Data(**base)


def versions(session) -> list[OpportunityVersion]:
    return list(session.scalars(select(OpportunityVersion).order_by(OpportunityVersion.id)))


def test_new_then_unchanged_writes_no_version(session):
    assert upsert_opportunity(session, call(), now=NOW).outcome == "new"
    assert upsert_opportunity(session, call(), now=NOW + timedelta(days=7)).outcome == "unchanged"
    session.commit()
    assert versions(session) == []
    row = session.scalars(select(Opportunity)).one()
    assert row.first_seen_at == NOW and row.last_seen_at == NOW + timedelta(days=7)
    assert row.last_changed_at == NOW
    assert row.deadline.tzinfo is not None


def test_changed_deadline_writes_exactly_one_version(session):
    upsert_opportunity(session, call(), now=NOW)
    later = NOW + timedelta(days=120)
    result = upsert_opportunity(session, call(deadline=later, deadlines=[later]), now=NOW + timedelta(days=1))
    session.commit()
    assert result.outcome == "changed"
    assert result.changed_fields == ["deadline"]
    rows = versions(session)
    assert [v.field for v in rows] == ["deadline"]
    assert rows[0].old_value.startswith("2027-02-21") and rows[0].new_value.startswith("2027-03-23")
    row = session.scalars(select(Opportunity)).one()
    assert [d[:10] for d in row.deadlines] == ["2027-03-23"]  # the list followed the change
    assert row.last_changed_at == NOW + timedelta(days=1)


def test_added_stage_with_the_same_next_deadline_is_one_deadlines_version(session):
    upsert_opportunity(session, call(), now=NOW)
    first, second = NOW + timedelta(days=90), NOW + timedelta(days=200)
    result = upsert_opportunity(session, call(deadline=first, deadlines=[first, second]), now=NOW)
    session.commit()
    assert result.changed_fields == ["deadlines"]
    assert [v.field for v in versions(session)] == ["deadlines"]


def test_stub_row_never_erases_known_values(session):
    upsert_opportunity(session, call(), now=NOW)
    stub = call(status=None, deadline=None, deadlines=[], amount_max=None, currency=None)
    assert upsert_opportunity(session, stub, now=NOW).outcome == "unchanged"
    session.commit()
    row = session.scalars(select(Opportunity)).one()
    assert row.status == "open" and row.deadline is not None and row.amount_max == 1_000_000.0


def test_same_call_from_another_source_is_merged_as_a_link(session):
    upsert_opportunity(session, call(), now=NOW)
    other = call(source="rss_fundsforngos", source_id="post-77", url="http://www.ec.europa.eu/x/topic-details/TOPIC-1/?utm_source=rss",
                 amount_max=None, funder="Comisión Europea")
    result = upsert_opportunity(session, other, now=NOW)
    session.commit()
    assert result.outcome == "merged"
    assert session.scalar(select(func.count()).select_from(Opportunity)) == 1
    links = session.scalars(select(OpportunityLink).order_by(OpportunityLink.id)).all()
    assert [(l.source, l.source_id) for l in links] == [("eu_sedia", "TOPIC-1"), ("rss_fundsforngos", "post-77")]
    assert session.scalars(select(Opportunity)).one().funder == "Comisión Europea"  # filled, as it was unknown
