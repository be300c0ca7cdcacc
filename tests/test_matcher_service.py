"""`run_matching` end to end on SQLite and PostgreSQL with the real model: stored matches and their
explanations, SDG tags, joint calls, the embedding cache on a re-run, and weights learned from feedback."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from convoca.cycle import sync_configs
from convoca.settings import Settings
from crawlers.classify import classify
from crawlers.items import CallItem
from crawlers.persistence import upsert_opportunity
from crawlers.pipelines import normalise_call
from matcher.feedback import MIN_LABELS, weights_for
from matcher.service import run_matching
from models import EmbeddingCache, Feedback, Match, Municipality, Opportunity, SdgTag

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)

PROFILE = """\
municipality: {name}
is_metropolitan: {metro}
recipients:
  - {{name: Planeación, email: planeacion@{slug}.example.gov.co}}
defaults: {{min_lead_days: 21, languages: [es, en], min_score: 50}}
profiles:
  - id: ciclorrutas
    title: Red de ciclorrutas seguras y movilidad activa
    description: >-
      El municipio quiere ampliar su red de ciclorrutas segregadas, conectarla con el metro y el sistema de
      bicicletas públicas, y pacificar el tráfico en entornos escolares con cruces seguros para peatones.
    sector: movilidad
    sdg_targets: ["11.2", "3.6"]
    keywords: [ciclorrutas, bike lanes, cycling, movilidad activa, active mobility]
    exclude: [vehículos de carga]
    cooperation_types: [financial_non_reimbursable, technical]
"""

CALLS = {
    "bikes": ("Safer Streets Fund – protected bike lanes for cities",
              "The fund invites city governments in Latin America to build protected bike lanes, safe school "
              "crossings and traffic calming. Grants of up to USD 300,000. Municipal governments apply directly. "
              "Applications close on 26 March 2027."),
    "bikes_closed": ("Cycling Cities Award 2026",
                     "Recognises municipalities that expanded safe cycling networks. Local governments from any "
                     "country could enter. The call closed on 15 October 2026."),
    "bikes_loan": ("Urban Mobility Credit Line",
                   "Concessional loans to subnational governments in Latin America for cycle networks and "
                   "pedestrian streets. Borrowers must show debt capacity. Requests are received on a rolling basis."),
    "water": ("Rural water and sanitation grants",
              "Grants for municipalities in Latin America that extend safe drinking water and sanitation to rural "
              "villages. Applications close on 30 April 2027."),
}


def _config_dir(tmp_path: Path, slugs: list[str]) -> Path:
    root = tmp_path / "config"
    (root / "municipalities").mkdir(parents=True)
    shutil.copy(REPO / "config" / "fx_rates.yaml", root / "fx_rates.yaml")
    for slug in slugs:
        metro = "true" if slug == "amva" else "false"
        (root / "municipalities" / f"{slug}.yaml").write_text(
            PROFILE.format(name=slug.title(), slug=slug, metro=metro), encoding="utf-8")
    return root


def _add_call(session: Session, key: str, title: str, description: str) -> None:
    item = CallItem(source="test", source_id=key, url=f"https://example.org/{key}", title=title, description=description)
    upsert_opportunity(session, classify(normalise_call(item, fx_path=None, now=NOW), now=NOW), now=NOW)


@pytest.fixture
def matching(tmp_path: Path, db_url: str, use_embedder) -> tuple[Settings, Session]:
    settings = Settings(database_url=db_url, config_dir=_config_dir(tmp_path, ["bello", "envigado", "itagui", "amva"]),
                        _env_file=None)  # type: ignore[call-arg]
    from models.db import session_factory

    session = session_factory(db_url)()
    sync_configs(session, settings)
    for key, (title, description) in CALLS.items():
        _add_call(session, key, title, description)
    session.commit()
    yield settings, session
    session.close()


def _opp_id(session: Session, key: str) -> int:
    return session.scalar(select(Opportunity.id).where(Opportunity.source_id == key))


def test_matches_are_filtered_scored_explained_and_joint(matching):
    settings, session = matching
    summary = run_matching(session, settings, today=TODAY)
    session.commit()
    assert summary.profiles == 4 and summary.opportunities == 3  # the closed call is not a candidate

    bikes, loan, water = (_opp_id(session, k) for k in ("bikes", "bikes_loan", "water"))
    rows = session.scalars(select(Match).where(Match.opportunity_id == bikes)).all()
    assert len(rows) == 4 and all(r.above_threshold for r in rows)
    assert all(r.joint_call for r in rows)  # three municipalities (AMVA does not count) → flagged for AMVA
    e = rows[0].explanation
    assert e["best_passage"] and "bike lanes" in " ".join(e["matched_keywords"]).lower()
    assert e["best_passages"][0]["text"] == e["best_passage"] and len(e["best_passages"]) == 2
    assert {f["name"]: f["status"] for f in e["filters"]}["cooperation_type"] == "passed"
    assert sum(v["points"] for v in e["breakdown"].values()) == pytest.approx(rows[0].score, abs=0.1)
    assert any(t.code == "11" for t in rows[0].opportunity.sdg_tags)
    # A loan is an instrument these profiles do not accept: it never becomes a stored, passing match.
    assert not session.scalars(select(Match).where(Match.opportunity_id == loan, Match.passed_filters.is_(True))).all()
    # The water call is on another theme: below the bike call for every profile.
    water_best = session.scalar(select(func.max(Match.score)).where(Match.opportunity_id == water)) or 0.0
    assert water_best < min(r.score for r in rows)
    tags = {t.code for t in session.scalars(select(SdgTag).where(SdgTag.opportunity_id == water))}
    assert "6" in tags and any(code.startswith("6.") for code in tags)


def test_rerun_embeds_only_new_or_changed_texts(matching):
    settings, session = matching
    first = run_matching(session, settings, today=TODAY)
    session.commit()
    assert first.embedded > 0
    cached = session.scalar(select(func.count()).select_from(EmbeddingCache))
    again = run_matching(session, settings, today=TODAY)
    session.commit()
    assert again.embedded == 0 and again.inserted == 0 and again.cache_hits > 0
    water = session.get(Opportunity, _opp_id(session, "water"))
    water.description = water.description + " Priority goes to villages without any piped supply."
    session.commit()
    third = run_matching(session, settings, today=TODAY)
    session.commit()
    assert 1 <= third.embedded <= 2  # only the changed passage(s) of one call
    assert session.scalar(select(func.count()).select_from(EmbeddingCache)) == cached + third.embedded
    assert session.scalar(select(func.count()).select_from(Match)) == first.stored


def test_feedback_below_and_above_the_label_threshold(matching):
    settings, session = matching
    run_matching(session, settings, today=TODAY)
    session.commit()
    municipality = session.scalar(select(Municipality).where(Municipality.slug == "bello"))
    match = session.scalar(select(Match).where(Match.municipality_id == municipality.id))
    configured = {"semantic": 0.55, "sdg": 0.2, "keywords": 0.2, "urgency": 0.05}
    session.add(Feedback(match_id=match.id, municipality_id=municipality.id, user="f", verdict="relevant"))
    session.flush()
    assert weights_for(session, municipality.id, configured)[1] == "configured"  # 1 label < MIN_LABELS

    # Simulated verdicts from a formulator who only values exact keyword evidence: the learned
    # weights must find that preference, and the next run uses them.
    rng = np.random.default_rng(7)
    for i in range(MIN_LABELS + 16):
        kw = float(rng.uniform())
        components = {"semantic": float(rng.uniform()), "sdg": float(rng.uniform()), "keywords": kw, "urgency": 0.3}
        # One match per (profile, call): each simulated verdict gets its own call (closed, so not re-scored).
        _add_call(session, f"sim{i}", f"Simulated call {i}", "Carries simulated feedback. The call closed on 1 May 2026.")
        extra = Match(municipality_id=municipality.id, profile_id=match.profile_id,
                      opportunity_id=_opp_id(session, f"sim{i}"), score=50.0, passed_filters=True,
                      components=components, explanation={}, model_id="test")
        session.add(extra)
        session.flush()
        session.add(Feedback(match_id=extra.id, municipality_id=municipality.id, user="f",
                             verdict="relevant" if kw > 0.5 else "not_relevant", reason=None if kw > 0.5 else "not_aligned"))
    # Eligibility verdicts do not train the ranker.
    session.add(Feedback(match_id=match.id, municipality_id=municipality.id, user="f", verdict="not_relevant",
                         reason="not_eligible"))
    session.commit()
    weights, ranker, learned = weights_for(session, municipality.id, configured)
    assert ranker == "learned" and learned is not None and learned.labels >= MIN_LABELS
    assert weights["keywords"] == max(weights.values())
    assert learned.heldout_ap_learned > learned.heldout_ap_configured
    summary = run_matching(session, settings, today=TODAY)
    assert summary.rankers["bello"] == "learned" and summary.rankers["envigado"] == "configured"
