"""`convoca evaluate ranking`: nDCG@10, precision@5 and MAP on labelled (profile, candidates) queries.

Each candidate goes through the same steps as a crawled call — `normalise_call` and `classify`
(cooperation type, eligible applicants and countries, deadline read from the text when the fields
are absent) — then the same SDG tagging and the same `score_batch` as `convoca match`.

A candidate counts as relevant for precision@5 and MAP when its label is ≥ 1; nDCG uses the
graded labels (gain 2^rel − 1).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from convoca.errors import MatchError
from convoca.vocab import COOPERATION_TYPES
from crawlers.classify import classify
from crawlers.items import CallItem
from crawlers.items import Opportunity as CallRecord
from crawlers.pipelines import normalise_call
from matcher.embedding import Embedder, encode_queries
from matcher.rank import ScoredBatch, score_batch
from matcher.scoring import OpportunitySpec, ProfileSpec, opportunity_arrays, rank_order
from matcher.sdg import SdgTagger, doc_vectors
from matcher.text import ProfileText, passages

log = structlog.stdlib.get_logger("convoca.evaluate")

DEFAULT_LEAD_DAYS = 21


@dataclass
class Candidate:
    id: str
    relevance: int
    call: CallRecord
    spec: OpportunitySpec | None = None


@dataclass
class Query:
    id: str
    as_of: date
    profile: ProfileSpec
    profile_text: str
    candidates: list[Candidate]


@dataclass
class QueryResult:
    id: str
    ranking: list[str]
    scores: list[float]
    relevance: list[int]
    ndcg10: float
    p5: float
    ap: float
    batch: ScoredBatch | None = None


@dataclass
class RankingEvaluation:
    queries: list[QueryResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        n = len(self.queries)
        mean = (lambda xs: round(float(np.mean(xs)), 4) if xs else 0.0)
        return {"ndcg@10": mean([q.ndcg10 for q in self.queries]), "p@5": mean([q.p5 for q in self.queries]),
                "map": mean([q.ap for q in self.queries]), "n_queries": n}


# ------------------------------------------------------------------ metrics (pure)


def ndcg_at(relevance_in_rank_order: Sequence[int], k: int = 10) -> float:
    def dcg(rels: Sequence[int]) -> float:
        return sum((2 ** r - 1) / math.log2(i + 2) for i, r in enumerate(rels[:k]))

    ideal = dcg(sorted(relevance_in_rank_order, reverse=True))
    return dcg(relevance_in_rank_order) / ideal if ideal > 0 else 0.0


def precision_at(relevance_in_rank_order: Sequence[int], k: int = 5) -> float:
    return sum(1 for r in relevance_in_rank_order[:k] if r >= 1) / k


def average_precision(relevance_in_rank_order: Sequence[int]) -> float:
    hits = 0
    total = 0.0
    for i, r in enumerate(relevance_in_rank_order, start=1):
        if r >= 1:
            hits += 1
            total += hits / i
    relevant = sum(1 for r in relevance_in_rank_order if r >= 1)
    return total / relevant if relevant else 0.0


# ------------------------------------------------------------------ reading


def _as_date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"{where}: as_of '{value}' is not a date YYYY-MM-DD") from None


def candidate_call(raw: dict[str, Any], now: datetime) -> CallRecord:
    """A labelled candidate as a crawled call: normalised, then classified."""
    deadline = raw.get("deadline")
    item = CallItem(
        source="evaluation", source_id=str(raw["id"]), url=f"https://evaluation.invalid/{raw['id']}",
        title=str(raw.get("title") or ""), description=raw.get("description"),
        deadlines=[deadline] if deadline else [],
        cooperation_type=raw.get("cooperation_type"),
        eligible_countries=raw.get("eligible_countries"),
        eligible_applicants=raw.get("eligible_applicants"),
        amount_text=raw.get("amount"),
    )
    return classify(normalise_call(item, fx_path=None, now=now), now=now)


def parse_query(data: dict[str, Any], where: str, today: date | None) -> Query:
    profile = data["profile"]
    as_of = _as_date(data["as_of"], where) if data.get("as_of") else (today or datetime.now(UTC).date())
    now = datetime(as_of.year, as_of.month, as_of.day, 12, tzinfo=UTC)
    coop = tuple(profile.get("cooperation_types") or COOPERATION_TYPES)
    spec = ProfileSpec(
        key=0, municipality="evaluation", title=str(profile["title"]),
        keywords=tuple(profile.get("keywords") or ()), exclude=tuple(profile.get("exclude") or ()),
        sdg_targets=tuple(str(t) for t in profile.get("sdg_targets") or ()), cooperation_types=coop,
        min_lead_days=int(profile.get("min_lead_days", DEFAULT_LEAD_DAYS)),
        country=str(profile.get("country", "CO")),
        applicant_types=tuple(profile.get("applicant_types") or ("local_government", "public_entity")),
        languages=tuple(profile["languages"]) if profile.get("languages") else None,
    )
    text = ProfileText(spec.title, str(profile.get("description") or ""), spec.keywords).text()
    candidates = []
    for c in data["candidates"]:
        relevance = int(c.get("relevance", 0))
        candidates.append(Candidate(str(c["id"]), relevance, candidate_call(c, now)))
    if not candidates:
        raise ValueError(f"{where}: no candidates")
    return Query(str(data.get("id", where)), as_of, spec, text, candidates)


def read_queries(path: Path, today: date | None = None) -> tuple[list[Query], list[str]]:
    """Queries of a JSONL file; a malformed line is reported and skipped, the rest still count."""
    if not path.exists():
        raise MatchError(f"{path}: file not found")
    queries: list[Query] = []
    skipped: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            queries.append(parse_query(json.loads(line), where, today))
        except (ValueError, KeyError, TypeError) as exc:
            reason = f"{where}: {type(exc).__name__}: {exc}"
            log.warning("ranking_query_skipped", where=where, error=str(exc))
            skipped.append(reason)
    if not queries:
        raise MatchError(f"{path}: no valid query" + (f" ({skipped[0]})" if skipped else ""))
    return queries, skipped


# ------------------------------------------------------------------ scoring


def _spec(call: CallRecord, key: int, sdg_scores: dict[str, float]) -> OpportunitySpec:
    return OpportunitySpec(
        key=key, title=call.title,
        text=" ".join(filter(None, [call.title, call.description or call.summary])),
        deadline=call.deadline, cooperation_type=call.cooperation_type,
        eligible_countries=tuple(call.eligible_countries) if call.eligible_countries else None,
        eligible_applicants=tuple(call.eligible_applicants) if call.eligible_applicants else None,
        language=call.language, amount_min_cop=None, amount_max_cop=None, status=call.status,
        sdg_scores=sdg_scores,
    )


def score_query(query: Query, embedder: Embedder, tagger: SdgTagger, backend: str,
                weights: np.ndarray | None = None) -> QueryResult:
    texts: list[str] = []
    starts: list[int] = []
    docs: list[list[str]] = []
    for c in query.candidates:
        starts.append(len(texts))
        doc = passages(c.call.title, c.call.description, c.call.summary)
        docs.append(doc)
        texts.extend(doc)
    owner_starts = np.asarray(starts, dtype=np.int64)
    passage_vecs = embedder.encode(texts)
    tags = tagger.tag_documents(doc_vectors(passage_vecs, owner_starts), docs)
    specs = [_spec(c.call, i, t.as_scores()) for i, (c, t) in enumerate(zip(query.candidates, tags))]
    for c, s in zip(query.candidates, specs):
        c.spec = s
    arrays = opportunity_arrays(specs, query.as_of)
    profile_vecs = encode_queries(embedder, [query.profile_text])
    batch = score_batch([query.profile], specs, arrays, profile_vecs, passage_vecs, owner_starts, backend, weights)
    order = rank_order(batch.scores[0], arrays.deadline_ts)
    rels = [query.candidates[i].relevance for i in order]
    return QueryResult(query.id, [query.candidates[i].id for i in order], [float(batch.scores[0, i]) for i in order],
                       rels, ndcg_at(rels, 10), precision_at(rels, 5), average_precision(rels), batch)


def evaluate_ranking(queries: Sequence[Query], embedder: Embedder, tagger: SdgTagger, backend: str,
                     progress: Callable[[int, int], None] | None = None) -> RankingEvaluation:
    result = RankingEvaluation()
    for i, q in enumerate(queries, start=1):
        result.queries.append(score_query(q, embedder, tagger, backend))
        if progress:
            progress(i, len(queries))
    return result
