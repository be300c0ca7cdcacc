"""Load → embed (cached) → tag SDGs → score every active profile → persist matches."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import structlog
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, selectinload

from convoca.settings import Settings
from crawlers.fx import FxRates, load_rates
from matcher.embedding import CachedEmbedder, make_embedder
from matcher.explain import build_explanation
from matcher.scoring import (
    DEFAULT_WEIGHTS,
    OpportunitySpec,
    ProfileSpec,
    best_passages,
    calibrate_semantic,
    combine,
    evaluate_filters,
    keyword_evidence,
    passes,
    sdg_alignment,
    urgency,
)
from matcher.sdg import SdgTagger
from matcher.text import RECIPE, ProfileText, passages
from models import Match, Municipality, Opportunity, Profile, SdgTag

log = structlog.stdlib.get_logger("convoca.matcher")

# Matches below this are not stored: they would never be shown and only fill the table.
STORE_FLOOR = 30.0
JOINT_CALL_MIN_MUNICIPALITIES = 3

Progress = Callable[[str, int, int], None]


@dataclass
class MatchSummary:
    opportunities: int = 0
    profiles: int = 0
    stored: int = 0
    above_threshold: int = 0
    by_municipality: dict[str, int] = field(default_factory=dict)
    embedded: int = 0
    cache_hits: int = 0
    joint_calls: int = 0
    seconds: float = 0.0


def _cop(rates: FxRates, amount: float | None, currency: str | None, on: date) -> float | None:
    return rates.to_cop(amount, currency, on) if amount is not None and currency else None


def profile_spec(profile: Profile, municipality: Municipality, rates: FxRates, today: date) -> ProfileSpec:
    cfg = municipality.config
    defaults = cfg.get("defaults", {})
    return ProfileSpec(
        key=profile.id,
        municipality=municipality.slug,
        title=profile.title,
        keywords=tuple(profile.keywords),
        exclude=tuple(profile.exclude),
        sdg_targets=tuple(profile.sdg_targets),
        cooperation_types=tuple(profile.cooperation_types),
        min_lead_days=profile.min_lead_days,
        country=cfg.get("country", "CO"),
        applicant_types=tuple(cfg.get("applicant_types", ("local_government", "public_entity"))),
        languages=tuple(defaults.get("languages", ("es", "en"))),
        budget_min_cop=_cop(rates, profile.budget_min, profile.budget_currency, today),
        budget_max_cop=_cop(rates, profile.budget_max, profile.budget_currency, today),
        min_score=float(defaults.get("min_score", 55)),
        weights=dict(cfg.get("weights") or DEFAULT_WEIGHTS),
    )


def opportunity_spec(opp: Opportunity, rates: FxRates, today: date, sdg_scores: dict[str, float]) -> OpportunitySpec:
    return OpportunitySpec(
        key=opp.id,
        title=opp.title,
        text=" ".join(filter(None, [opp.title, opp.description or opp.summary, " ".join(opp.topics or [])])),
        deadline=opp.deadline,
        cooperation_type=opp.cooperation_type,
        eligible_countries=tuple(opp.eligible_countries) if opp.eligible_countries else None,
        eligible_applicants=tuple(opp.eligible_applicants) if opp.eligible_applicants else None,
        language=opp.language,
        amount_min_cop=_cop(rates, opp.amount_min, opp.currency, today),
        amount_max_cop=_cop(rates, opp.amount_max, opp.currency, today),
        status=opp.status,
        sdg_scores=sdg_scores,
    )


def candidate_opportunities(session: Session, today: date) -> list[Opportunity]:
    start_of_today = datetime(today.year, today.month, today.day, tzinfo=UTC)
    return list(session.scalars(
        select(Opportunity)
        .where(or_(Opportunity.status.is_(None), Opportunity.status != "closed"))
        .where(or_(Opportunity.deadline.is_(None), Opportunity.deadline >= start_of_today))
        .order_by(Opportunity.id)
    ))


def _store_tags(session: Session, opp: Opportunity, scores: dict[str, float], model_id: str) -> None:
    current = {(t.code, round(t.score, 4), t.model_id) for t in opp.sdg_tags}
    wanted = {(code, round(score, 4), model_id) for code, score in scores.items()}
    if current == wanted:
        return
    session.execute(delete(SdgTag).where(SdgTag.opportunity_id == opp.id))
    session.add_all(
        SdgTag(opportunity_id=opp.id, code=code, level="target" if "." in code else "goal", score=score, model_id=model_id)
        for code, score in scores.items()
    )


def run_matching(session: Session, settings: Settings, *, today: date | None = None,
                 progress: Progress | None = None) -> MatchSummary:
    started = time.perf_counter()
    today = today or datetime.now(UTC).date()
    summary = MatchSummary()
    rates = load_rates(Path(settings.config_dir) / "fx_rates.yaml")
    step = progress or (lambda stage, done, total: None)

    municipalities = list(session.scalars(
        select(Municipality).options(selectinload(Municipality.profiles)).order_by(Municipality.id)
    ))
    profiles = [(m, p) for m in municipalities for p in m.profiles if p.active]
    opportunities = candidate_opportunities(session, today)
    summary.opportunities, summary.profiles = len(opportunities), len(profiles)
    if not profiles or not opportunities:
        summary.seconds = time.perf_counter() - started
        return summary

    backend = settings.embedder
    embedder = CachedEmbedder(session, make_embedder(backend, settings.embed_threads, settings.embed_batch_size), RECIPE)

    # 1. Passages of every candidate, embedded once (cache first).
    texts: list[str] = []
    starts: list[int] = []
    for opp in opportunities:
        starts.append(len(texts))
        texts.extend(passages(opp.title, opp.description, opp.summary))
    step("embed", 0, len(texts))
    passage_vecs = embedder.encode(texts)
    step("embed", len(texts), len(texts))
    owner_starts = np.asarray(starts, dtype=np.int64)
    ends = np.append(owner_starts[1:], len(texts))

    # 2. SDG targets per call.
    tagger = SdgTagger(embedder)
    sdg_by_opp: dict[int, dict[str, float]] = {}
    for i, opp in enumerate(opportunities):
        scores = tagger.tag(passage_vecs[owner_starts[i]:ends[i]])
        sdg_by_opp[opp.id] = scores
        _store_tags(session, opp, scores, tagger.model_id)
        if i % 200 == 0:
            step("sdg", i, len(opportunities))
    step("sdg", len(opportunities), len(opportunities))

    # 3. Profiles against every call.
    profile_texts = [ProfileText(p.title, p.description, tuple(p.keywords)).text() for _, p in profiles]
    profile_vecs = embedder.encode(profile_texts)
    best, arg = best_passages(profile_vecs, passage_vecs, owner_starts)
    semantic = calibrate_semantic(best, backend)
    summary.embedded, summary.cache_hits = embedder.misses, embedder.hits

    opp_specs = [opportunity_spec(o, rates, today, sdg_by_opp[o.id]) for o in opportunities]
    existing = {(m.profile_id, m.opportunity_id): m for m in session.scalars(
        select(Match).where(Match.profile_id.in_([p.id for _, p in profiles]))
    )}
    above_by_opp: dict[int, set[str]] = defaultdict(set)
    now = datetime.now(UTC)
    for pi, (municipality, profile) in enumerate(profiles):
        spec = profile_spec(profile, municipality, rates, today)
        for oi, ospec in enumerate(opp_specs):
            filters = evaluate_filters(ospec, spec, today)
            ok = passes(filters)
            kw, matched, excluded = keyword_evidence(ospec.text, spec.keywords, spec.exclude)
            sdg, shared_t, shared_g = sdg_alignment(ospec.sdg_scores, spec.sdg_targets)
            features = {"semantic": float(semantic[pi, oi]), "sdg": sdg, "keywords": kw,
                        "urgency": urgency(ospec.deadline, today, spec.min_lead_days)}
            score = combine(features, spec.weights) if ok else 0.0
            key = (profile.id, ospec.key)
            row = existing.get(key)
            if not ok or score < STORE_FLOOR:
                if row is not None:  # keep its feedback, but it no longer qualifies
                    row.passed_filters, row.above_threshold, row.score, row.computed_at = ok, False, score, now
                continue
            explanation = build_explanation(
                filters=filters, features=features, weights=spec.weights,
                best_passage=texts[int(arg[pi, oi])], passage_similarity=float(best[pi, oi]),
                shared_targets=shared_t, shared_goals=shared_g, matched_keywords=matched,
                excluded_keywords=excluded, score=score,
            )
            above = score >= spec.min_score
            if row is None:
                row = Match(municipality_id=municipality.id, profile_id=profile.id, opportunity_id=ospec.key,
                            first_matched_at=now, status="new")
                session.add(row)
                existing[key] = row
            row.score, row.passed_filters, row.above_threshold = score, True, above
            row.components, row.explanation = features, explanation
            row.model_id, row.computed_at = embedder.model_id, now
            summary.stored += 1
            if above:
                summary.above_threshold += 1
                summary.by_municipality[municipality.slug] = summary.by_municipality.get(municipality.slug, 0) + 1
                if not municipality.is_metropolitan:
                    above_by_opp[ospec.key].add(municipality.slug)
        step("score", pi + 1, len(profiles))

    # 4. Joint calls: fitting three or more municipalities, flagged for AMVA.
    joint = {oid for oid, slugs in above_by_opp.items() if len(slugs) >= JOINT_CALL_MIN_MUNICIPALITIES}
    for row in existing.values():
        row.joint_call = row.opportunity_id in joint and row.above_threshold
    summary.joint_calls = len(joint)
    for m in municipalities:
        summary.by_municipality.setdefault(m.slug, 0)
    session.flush()
    summary.seconds = time.perf_counter() - started
    log.info("matching_done", opportunities=summary.opportunities, profiles=summary.profiles,
             stored=summary.stored, above=summary.above_threshold, embedded=summary.embedded,
             cache_hits=summary.cache_hits, joint_calls=summary.joint_calls, seconds=round(summary.seconds, 2))
    return summary
