"""The list, detail and feedback queries on both backends (SQLite and PostgreSQL), with the real matcher."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from convoca.settings import Settings
from models import Feedback, Match, Municipality
from notifier.digest import today_in_bogota
from tests.web.seed import seed
from web.feedback import record_feedback
from web.filters import parse_filters
from web.matches import export_rows, list_matches, match_detail
from web.overview import amva_overview


def _filters(**params: str):
    return parse_filters(params, default_min_score=0, profiles={"buen-comienzo-primera-infancia"})


def test_filters_sort_detail_and_feedback_on_each_backend(db_url: str, settings: Settings, session: Session):
    seed(db_url, settings)
    today = today_in_bogota(datetime.now(UTC))
    medellin = session.scalars(select(Municipality).where(Municipality.slug == "medellin")).one()

    everything = list_matches(session, medellin, _filters(), today)
    assert everything.total >= 8 and len(everything.rows) == everything.total
    assert [r.score for r in everything.rows] == sorted((r.score for r in everything.rows), reverse=True)
    by_deadline = list_matches(session, medellin, _filters(orden="cierre"), today).rows
    assert [r.deadline for r in by_deadline] == sorted(r.deadline for r in by_deadline)
    assert {r.cooperation_type for r in list_matches(session, medellin, _filters(tipo="technical"), today).rows} == {"technical"}
    goal_4 = list_matches(session, medellin, _filters(ods="4"), today).rows
    target_42 = list_matches(session, medellin, _filters(ods="4.2"), today).rows
    assert target_42 and {r.match_id for r in target_42} <= {r.match_id for r in goal_4}
    assert {r.language for r in list_matches(session, medellin, _filters(idioma="es"), today).rows} == {"es"}
    assert all(r.profile_slug == "buen-comienzo-primera-infancia"
               for r in list_matches(session, medellin, _filters(perfil="buen-comienzo-primera-infancia"), today).rows)
    window = list_matches(session, medellin, _filters(cierre="60"), today).rows
    assert window and all((r.deadline.date() - today).days <= 61 for r in window)
    assert len(list_matches(session, medellin, _filters(pagina="2", por_pagina="10"), today).rows) == everything.total - 10

    top = everything.rows[0]
    detail = match_detail(session, medellin, top.match_id)
    assert detail is not None and detail.explanation["breakdown"] and detail.opportunity.links
    match = session.get(Match, top.match_id)
    record_feedback(session, match, "ana", "not_relevant", "duplicate")
    session.commit()
    assert session.scalars(select(Feedback)).one().reason == "duplicate"
    assert top.match_id not in {r.match_id for r in list_matches(session, medellin, _filters(), today).rows}
    assert [r.match_id for r in export_rows(session, medellin, _filters(estado="dismissed"), today, 100)] == [top.match_id]

    overview = amva_overview(session, today)
    counts = {m.slug: m for m in overview.municipalities}
    assert counts["medellin"].by_status.get("dismissed", 0) <= 1 and counts["medellin"].feedback == 1
    assert overview.joint_calls
