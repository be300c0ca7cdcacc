"""Eligibility-first scoring: pure functions over arrays, profiles and opportunities.

Hard filters decide whether a call can be used at all and are never learned; an unknown
passes and is reported as unknown. The features then say how well it fits; the combination
is a weighted sum on a 0–100 scale.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import numpy as np

FilterStatus = Literal["passed", "failed", "unknown"]

# Cosine → 0..1 per backend: the score scale of each model differs (DESIGN.md, "Embedding model").
SEMANTIC_CALIBRATION: dict[str, tuple[float, float]] = {
    "use-multilingual": (0.10, 0.50),
    "sentence-transformers": (0.10, 0.60),
}

DEFAULT_WEIGHTS = {"semantic": 0.55, "sdg": 0.20, "keywords": 0.20, "urgency": 0.05}
FEATURES = ("semantic", "sdg", "keywords", "urgency")


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
    languages: tuple[str, ...] = ("es", "en")
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


# ---------------------------------------------------------------- hard filters

def filter_deadline(opp: OpportunitySpec, lead_days: int, today: date) -> FilterOutcome:
    if opp.deadline is None:
        return FilterOutcome("deadline", "unknown", {"lead_days": lead_days})
    days_left = (opp.deadline.date() - today).days
    status: FilterStatus = "passed" if days_left >= lead_days else "failed"
    return FilterOutcome("deadline", status, {"days_left": days_left, "lead_days": lead_days})


def filter_country(opp: OpportunitySpec, country: str) -> FilterOutcome:
    if not opp.eligible_countries:
        return FilterOutcome("country", "unknown", {"country": country})
    ok = "*" in opp.eligible_countries or country in opp.eligible_countries
    return FilterOutcome("country", "passed" if ok else "failed",
                         {"country": country, "eligible": list(opp.eligible_countries)})


def filter_applicant(opp: OpportunitySpec, applicant_types: Sequence[str]) -> FilterOutcome:
    if not opp.eligible_applicants:
        return FilterOutcome("applicant", "unknown", {"applicant_types": list(applicant_types)})
    shared = sorted(set(opp.eligible_applicants) & set(applicant_types))
    # A consortium call admits a municipality as a partner.
    ok = bool(shared) or "consortium" in opp.eligible_applicants
    return FilterOutcome("applicant", "passed" if ok else "failed",
                         {"eligible": list(opp.eligible_applicants), "shared": shared})


def filter_cooperation(opp: OpportunitySpec, accepted: Sequence[str]) -> FilterOutcome:
    if opp.cooperation_type is None:
        return FilterOutcome("cooperation_type", "unknown", {"accepted": list(accepted)})
    ok = opp.cooperation_type in accepted
    return FilterOutcome("cooperation_type", "passed" if ok else "failed",
                         {"type": opp.cooperation_type, "accepted": list(accepted)})


def filter_amount(opp: OpportunitySpec, budget_min: float | None, budget_max: float | None) -> FilterOutcome:
    if budget_min is None or budget_max is None or (opp.amount_min_cop is None and opp.amount_max_cop is None):
        return FilterOutcome("amount", "unknown", {})
    low = opp.amount_min_cop if opp.amount_min_cop is not None else 0.0
    high = opp.amount_max_cop if opp.amount_max_cop is not None else low
    ok = high >= budget_min * 0.05 and low <= budget_max  # a grant may fund part of a project
    return FilterOutcome("amount", "passed" if ok else "failed",
                         {"amount_min_cop": opp.amount_min_cop, "amount_max_cop": opp.amount_max_cop,
                          "budget_min_cop": budget_min, "budget_max_cop": budget_max})


def filter_language(opp: OpportunitySpec, languages: Sequence[str]) -> FilterOutcome:
    if opp.language is None:
        return FilterOutcome("language", "unknown", {"languages": list(languages)})
    ok = opp.language in languages
    return FilterOutcome("language", "passed" if ok else "failed", {"language": opp.language})


def filter_status(opp: OpportunitySpec) -> FilterOutcome:
    if opp.status is None:
        return FilterOutcome("status", "unknown", {})
    return FilterOutcome("status", "failed" if opp.status == "closed" else "passed", {"status": opp.status})


def evaluate_filters(opp: OpportunitySpec, profile: ProfileSpec, today: date) -> list[FilterOutcome]:
    return [
        filter_status(opp),
        filter_deadline(opp, profile.min_lead_days, today),
        filter_country(opp, profile.country),
        filter_applicant(opp, profile.applicant_types),
        filter_cooperation(opp, profile.cooperation_types),
        filter_amount(opp, profile.budget_min_cop, profile.budget_max_cop),
        filter_language(opp, profile.languages),
    ]


def passes(filters: Sequence[FilterOutcome]) -> bool:
    return all(f.status != "failed" for f in filters)


# ---------------------------------------------------------------- features

def fold(text: str) -> str:
    """Lowercase without accents, so 'Movilidad eléctrica' meets 'movilidad electrica'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _term_pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in fold(term).split()]
    # Allow simple plurals on the last word (bicicleta/bicicletas, grant/grants).
    return re.compile(r"\b" + r"\s+".join(words) + r"(?:s|es)?\b")


def keyword_evidence(text: str, keywords: Sequence[str], exclude: Sequence[str]) -> tuple[float, list[str], list[str]]:
    """(0..1 evidence, matched keywords, matched exclusions). Three distinct hits saturate."""
    folded = fold(text)
    matched = [k for k in keywords if _term_pattern(k).search(folded)]
    excluded = [k for k in exclude if _term_pattern(k).search(folded)]
    score = min(1.0, len(matched) / 3.0)
    if excluded:
        score = 0.0
    return score, matched, excluded


def sdg_alignment(opp_scores: dict[str, float], profile_targets: Sequence[str]) -> tuple[float, list[str], list[str]]:
    """A shared target counts fully, a shared goal half. Returns (0..1, shared targets, shared goals)."""
    if not opp_scores or not profile_targets:
        return 0.0, [], []
    shared_targets = [t for t in profile_targets if opp_scores.get(t, 0.0) > 0]
    goals = sorted({t.split(".")[0] for t in profile_targets})
    shared_goals = [g for g in goals if opp_scores.get(g, 0.0) > 0]
    target_part = max((opp_scores[t] for t in shared_targets), default=0.0)
    goal_part = 0.5 * max((opp_scores[g] for g in shared_goals), default=0.0)
    return float(min(1.0, max(target_part, goal_part))), shared_targets, shared_goals


def urgency(deadline: datetime | None, today: date, lead_days: int) -> float:
    """1 when the call closes soon after the lead time, fading to 0 at 180 days; 0.3 when unknown."""
    if deadline is None:
        return 0.3
    slack = (deadline.date() - today).days - lead_days
    if slack < 0:
        return 0.0
    return float(max(0.0, 1.0 - slack / 180.0))


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
    ends = np.append(owner_starts[1:], passage_vecs.shape[0])
    arg = np.empty_like(best, dtype=np.int64)
    for j, (s, e) in enumerate(zip(owner_starts, ends)):
        arg[:, j] = s + np.argmax(sims[:, s:e], axis=1)
    return best, arg


def combine(features: dict[str, float], weights: dict[str, float]) -> float:
    total = sum(weights.get(name, 0.0) for name in FEATURES) or 1.0
    value = sum(weights.get(name, 0.0) * features.get(name, 0.0) for name in FEATURES) / total
    return round(100.0 * value, 2)


def rank_key(score: float, deadline: datetime | None) -> tuple[float, float]:
    """Sort key: higher score first, then the nearer deadline (unknown last)."""
    return (-score, deadline.timestamp() if deadline else float("inf"))
