"""Load → embed (cached) → tag SDGs → score every active profile → persist matches.

Calls are processed in batches (columns read with Core, never whole ORM objects), so memory stays
flat with 100,000 calls: a batch's passage vectors are dropped once its pairs are scored. Rows are
written in bulk, and only when something changed, so a weekly re-run costs little more than the
cache look-ups.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, selectinload

from convoca.settings import Settings
from crawlers.fx import FxRates, load_rates
from matcher.embedding import CachedEmbedder, make_embedder, text_hash
from matcher.explain import Explainer
from matcher.feedback import weights_for
from matcher.lexical import KeywordVocabulary
from matcher.rank import score_batch
from matcher.scoring import (
    DEFAULT_WEIGHTS,
    FEATURES,
    OpportunitySpec,
    ProfileSpec,
    opportunity_arrays,
)
from matcher.sdg import Prototype, SdgTagger, doc_vectors, load_catalogue
from matcher.text import RECIPE, ProfileText, passages
from models import Match, Municipality, Opportunity, Profile, SdgTag, SdgText

log = structlog.stdlib.get_logger("convoca.matcher")

# Matches below the floor are not stored: they would never be shown and only fill the table.
# A profile keeps near misses down to STORE_MARGIN points under its municipality's min_score (the
# web list can lower its score filter that far), never below STORE_FLOOR and never needing more
# than STORE_CEILING: every match a digest could list is always stored.
STORE_FLOOR = 30.0
STORE_CEILING = 40.0
STORE_MARGIN = 10.0
# A stored score within this many points of the new one is left as is (no rewrite, no new explanation):
# a week's drift of urgency or of the corpus-wide idf stays below it; a threshold crossing always counts.
SCORE_TOLERANCE = 0.25
JOINT_CALL_MIN_MUNICIPALITIES = 3
BATCH_SIZE = 2000

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
    encode_seconds: float = 0.0
    joint_calls: int = 0
    inserted: int = 0
    updated: int = 0
    rankers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _cop(rates: FxRates, amount: float | None, currency: str | None, on: date) -> float | None:
    return rates.to_cop(amount, currency, on) if amount is not None and currency else None


def profile_spec(profile: Profile, municipality: Municipality, rates: FxRates, today: date,
                 weights: dict[str, float] | None = None) -> ProfileSpec:
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
        weights=dict(weights or cfg.get("weights") or DEFAULT_WEIGHTS),
    )


_OPP_COLUMNS = (Opportunity.id, Opportunity.title, Opportunity.description, Opportunity.summary, Opportunity.topics,
                Opportunity.deadline, Opportunity.cooperation_type, Opportunity.eligible_countries,
                Opportunity.eligible_applicants, Opportunity.language, Opportunity.amount_min,
                Opportunity.amount_max, Opportunity.currency, Opportunity.status)


def call_text(row: Any) -> str:
    """What keywords are looked for in: title, body and the source's topics."""
    return " ".join(filter(None, [row.title, row.description or row.summary, " ".join(row.topics or [])]))


def opportunity_spec(row: Any, rates: FxRates, today: date, sdg_scores: dict[str, float]) -> OpportunitySpec:
    """From an Opportunity (ORM object or Core row with the same attribute names)."""
    return OpportunitySpec(
        key=row.id,
        title=row.title,
        text=call_text(row),
        deadline=row.deadline,
        cooperation_type=row.cooperation_type,
        eligible_countries=tuple(row.eligible_countries) if row.eligible_countries else None,
        eligible_applicants=tuple(row.eligible_applicants) if row.eligible_applicants else None,
        language=row.language,
        amount_min_cop=_cop(rates, row.amount_min, row.currency, today),
        amount_max_cop=_cop(rates, row.amount_max, row.currency, today),
        status=row.status,
        sdg_scores=sdg_scores,
    )


def candidate_ids(session: Session, today: date) -> list[int]:
    start_of_today = datetime(today.year, today.month, today.day, tzinfo=UTC)
    return list(session.scalars(
        select(Opportunity.id)
        .where(or_(Opportunity.status.is_(None), Opportunity.status != "closed"))
        .where(or_(Opportunity.deadline.is_(None), Opportunity.deadline >= start_of_today))
        .order_by(Opportunity.id)
    ))


def official_prototypes(session: Session) -> list[Prototype]:
    """Imported official target texts, if an operator ran `convoca sdg import`."""
    rows = session.execute(select(SdgText.code, SdgText.language, SdgText.text).where(SdgText.code.contains(".")))
    return [Prototype(int(code.split(".")[0]), code, lang, text, "official") for code, lang, text in rows]


def make_tagger(session: Session, embedder: CachedEmbedder) -> SdgTagger:
    return SdgTagger(embedder, catalogue=load_catalogue(official_prototypes(session)))


def _current_tags(session: Session, ids: Sequence[int]) -> dict[int, tuple[set[str], dict[str, float]]]:
    current: dict[int, tuple[set[str], dict[str, float]]] = {}
    for oid, code, score, model_id in session.execute(
            select(SdgTag.opportunity_id, SdgTag.code, SdgTag.score, SdgTag.model_id)
            .where(SdgTag.opportunity_id.in_(list(ids)))):
        models, scores = current.setdefault(oid, (set(), {}))
        models.add(model_id)
        scores[code] = score
    return current


def tag_batch(session: Session, tagger: SdgTagger, ids: Sequence[int], docs: Sequence[list[str]],
              doc_vecs: np.ndarray, unchanged: Sequence[bool]) -> list[dict[str, float]]:
    """SDG scores per call. A call whose passages were all in the cache keeps its stored tags when the
    same tagger made them; the others are tagged now and their rows replaced."""
    current = _current_tags(session, ids)
    model_id = tagger.model_id
    out: list[dict[str, float] | None] = []
    todo: list[int] = []
    for i, oid in enumerate(ids):
        stored = current.get(oid)
        if unchanged[i] and stored is not None and stored[0] == {model_id}:
            out.append(stored[1])
        else:
            out.append(None)
            todo.append(i)
    if todo:
        fresh = tagger.tag_documents(doc_vecs[todo], [docs[i] for i in todo])
        replaced = [ids[i] for i in todo]
        rows: list[dict[str, Any]] = []
        for i, tags in zip(todo, fresh):
            scores = tags.as_scores()
            out[i] = scores
            rows.extend({"opportunity_id": ids[i], "code": code, "level": "target" if "." in code else "goal",
                         "score": score, "model_id": model_id} for code, score in scores.items())
        session.execute(delete(SdgTag).where(SdgTag.opportunity_id.in_(replaced)))
        if rows:
            session.execute(SdgTag.__table__.insert(), rows)
    return [o or {} for o in out]


def _write(session: Session, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
    if inserts:
        # Core executemany: the ORM's per-row bookkeeping is not needed for rows it will not track.
        session.execute(Match.__table__.insert(), inserts)
    if updates:
        # Bulk UPDATE by primary key; rows with the same set of columns go in one executemany.
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for values in updates:
            by_keys[tuple(sorted(values))].append(values)
        for group in by_keys.values():
            session.execute(update(Match), group)


@dataclass
class _Existing:
    id: int
    score: float
    passed: bool
    above: bool
    joint: bool


def run_matching(session: Session, settings: Settings, *, today: date | None = None,
                 progress: Progress | None = None, batch_size: int = BATCH_SIZE) -> MatchSummary:
    started = time.perf_counter()
    today = today or datetime.now(UTC).date()
    summary = MatchSummary()
    rates = load_rates(Path(settings.config_dir) / "fx_rates.yaml")
    step = progress or (lambda stage, done, total: None)

    municipalities = list(session.scalars(
        select(Municipality).options(selectinload(Municipality.profiles)).order_by(Municipality.id)
    ))
    pairs = [(m, p) for m in municipalities for p in m.profiles if p.active]
    ids = candidate_ids(session, today)
    summary.opportunities, summary.profiles = len(ids), len(pairs)
    if not pairs or not ids:
        summary.seconds = time.perf_counter() - started
        return summary

    # Weights: configured, or learned from the municipality's feedback when that ranks better.
    ranker_of: dict[int, str] = {}
    weights_of: dict[int, dict[str, float]] = {}
    for m in municipalities:
        configured = dict(m.config.get("weights") or DEFAULT_WEIGHTS)
        weights_of[m.id], ranker_of[m.id], _ = weights_for(session, m.id, configured)
        summary.rankers[m.slug] = ranker_of[m.id]
    profiles = [profile_spec(p, m, rates, today, weights_of[m.id]) for m, p in pairs]

    backend = settings.embedder
    embedder = CachedEmbedder(session, make_embedder(backend, settings.embed_threads, settings.embed_batch_size), RECIPE)
    tagger = make_tagger(session, embedder)
    profile_vecs = embedder.encode_queries(
        [ProfileText(p.title, p.description, tuple(p.keywords)).text() for _, p in pairs])

    # Keyword hits of every candidate first: one idf for the whole corpus, so a call's keyword
    # evidence does not depend on the batch it falls in.
    vocabulary = KeywordVocabulary([p.keywords for p in profiles], [p.exclude for p in profiles])
    hits_of: dict[int, tuple[int, ...]] = {}
    for start in range(0, len(ids), batch_size):
        part = session.execute(select(Opportunity.id, Opportunity.title, Opportunity.description, Opportunity.summary,
                                      Opportunity.topics).where(Opportunity.id.in_(ids[start:start + batch_size]))).all()
        hits_of.update(zip((r.id for r in part), vocabulary.hits([call_text(r) for r in part])))
    idf = vocabulary.idf(list(hits_of.values())) if vocabulary.terms else None

    existing: dict[tuple[int, int], _Existing] = {
        (pid, oid): _Existing(mid, score, passed, above, joint)
        for mid, pid, oid, score, passed, above, joint in session.execute(
            select(Match.id, Match.profile_id, Match.opportunity_id, Match.score, Match.passed_filters,
                   Match.above_threshold, Match.joint_call)
            .where(Match.profile_id.in_([p.id for _, p in pairs])))
    }
    existing_by_profile: dict[int, dict[int, _Existing]] = defaultdict(dict)
    for (pid, oid), old in existing.items():
        existing_by_profile[pid][oid] = old
    min_scores = np.asarray([p.min_score for p in profiles], dtype=np.float32)[:, None]
    store_floors = np.clip(min_scores - STORE_MARGIN, STORE_FLOOR, STORE_CEILING)
    metropolitan = np.asarray([m.is_metropolitan for m, _ in pairs])
    muni_of_profile = [m.slug for m, _ in pairs]
    now = datetime.now(UTC)
    above_by_opp: dict[int, set[str]] = defaultdict(set)

    for start in range(0, len(ids), batch_size):
        batch_ids = ids[start:start + batch_size]
        rows = session.execute(select(*_OPP_COLUMNS).where(Opportunity.id.in_(batch_ids)).order_by(Opportunity.id)).all()
        texts: list[str] = []
        starts: list[int] = []
        docs: list[list[str]] = []
        for row in rows:
            starts.append(len(texts))
            doc = passages(row.title, row.description, row.summary)
            docs.append(doc)
            texts.extend(doc)
        owner_starts = np.asarray(starts, dtype=np.int64)
        passage_vecs = embedder.encode(texts)
        missed = embedder.last_missed
        unchanged = [not any(text_hash(p) in missed for p in doc) for doc in docs] if missed else [True] * len(docs)
        tags = tag_batch(session, tagger, [r.id for r in rows], docs, doc_vectors(passage_vecs, owner_starts), unchanged)
        specs = [opportunity_spec(r, rates, today, t) for r, t in zip(rows, tags)]
        arrays = opportunity_arrays(specs, today)
        keywords = vocabulary.evidence([hits_of[r.id] for r in rows], idf) if idf is not None else None
        batch = score_batch(profiles, specs, arrays, profile_vecs, passage_vecs, owner_starts, backend,
                            keywords=keywords)

        scores = batch.scores
        keep = batch.passed & (scores >= np.minimum(store_floors, min_scores))
        above = keep & (scores >= min_scores)
        for pi, oi in zip(*np.nonzero(above & ~metropolitan[:, None])):
            above_by_opp[int(arrays.keys[oi])].add(muni_of_profile[pi])
        summary.stored += int(keep.sum())
        summary.above_threshold += int(above.sum())
        for pi in np.flatnonzero(above.any(axis=1)):
            slug = muni_of_profile[pi]
            summary.by_municipality[slug] = summary.by_municipality.get(slug, 0) + int(above[pi].sum())

        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        explain = Explainer(batch, profiles, specs, texts, today, [ranker_of[m.id] for m, _ in pairs])
        # Existing rows of this batch that no longer qualify keep their feedback, flagged down.
        batch_keys = {int(k): oi for oi, k in enumerate(arrays.keys)}
        for pi, (m, p) in enumerate(pairs):
            for oi in np.flatnonzero(keep[pi]):
                oid = int(arrays.keys[oi])
                score = float(scores[pi, oi])
                row_above = bool(above[pi, oi])
                old = existing.get((p.id, oid))
                if old is not None and old.passed and abs(old.score - score) < SCORE_TOLERANCE and old.above == row_above:
                    continue
                explanation = explain(pi, int(oi))
                values = {"score": score, "passed_filters": True, "above_threshold": row_above,
                          "components": batch.feature_row(pi, int(oi)), "explanation": explanation,
                          "model_id": embedder.model_id, "computed_at": now}
                if old is None:
                    inserts.append({"municipality_id": m.id, "profile_id": p.id, "opportunity_id": oid,
                                    "first_matched_at": now, "status": "new", "joint_call": False, **values})
                else:
                    updates.append({"id": old.id, **values})
            mine = existing_by_profile.get(p.id, {})
            for oid in mine.keys() & batch_keys.keys():
                old, oi = mine[oid], batch_keys[oid]
                if keep[pi, oi] or (not old.above and old.passed == bool(batch.passed[pi, oi])
                                    and abs(old.score - float(scores[pi, oi])) < SCORE_TOLERANCE):
                    continue
                updates.append({"id": old.id, "score": float(scores[pi, oi]), "passed_filters": bool(batch.passed[pi, oi]),
                                 "above_threshold": False, "computed_at": now})
        # Written per batch, so memory stays flat however many calls there are.
        _write(session, inserts, updates)
        summary.inserted += len(inserts)
        summary.updated += len(updates)
        step("match", min(start + batch_size, len(ids)), len(ids))
        del passage_vecs, batch, inserts, updates

    summary.embedded, summary.cache_hits, summary.encode_seconds = embedder.misses, embedder.hits, embedder.encode_seconds

    # Joint calls: above threshold for three or more municipalities (AMVA aside), flagged on every such row.
    joint = {oid for oid, slugs in above_by_opp.items() if len(slugs) >= JOINT_CALL_MIN_MUNICIPALITIES}
    summary.joint_calls = len(joint)
    flips = [{"id": mid, "joint_call": not flag}
             for mid, oid, above, flag in session.execute(
                 select(Match.id, Match.opportunity_id, Match.above_threshold, Match.joint_call)
                 .where(Match.profile_id.in_([p.id for _, p in pairs]))
                 .where(or_(Match.joint_call.is_(True), Match.above_threshold.is_(True))))
             if bool(above and oid in joint) != bool(flag)]
    if flips:
        session.execute(update(Match), flips)
    for m in municipalities:
        summary.by_municipality.setdefault(m.slug, 0)
    session.flush()
    summary.seconds = time.perf_counter() - started
    log.info("matching_done", opportunities=summary.opportunities, profiles=summary.profiles,
             stored=summary.stored, above=summary.above_threshold, embedded=summary.embedded,
             cache_hits=summary.cache_hits, joint_calls=summary.joint_calls, inserted=summary.inserted,
             updated=summary.updated, seconds=round(summary.seconds, 2))
    return summary


__all__ = ["FEATURES", "MatchSummary", "STORE_FLOOR", "candidate_ids", "make_tagger", "opportunity_spec",
           "profile_spec", "run_matching"]
