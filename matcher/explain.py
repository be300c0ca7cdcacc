"""Explanations as data: what the web page and the email render to say why a call fits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matcher.scoring import EXCLUSION_PENALTY, FEATURES, FilterOutcome


def build_explanation(
    *,
    filters: Sequence[FilterOutcome | dict[str, Any]],
    features: dict[str, float],
    weights: dict[str, float],
    best_passage: str | None,
    passage_similarity: float | None,
    shared_targets: Sequence[str],
    shared_goals: Sequence[str],
    matched_keywords: Sequence[str],
    excluded_keywords: Sequence[str],
    score: float,
    opportunity_sdgs: dict[str, float] | None = None,
    ranker: str = "configured",
) -> dict[str, Any]:
    # Plain dicts: dataclasses.asdict deep-copies recursively and is slow for thousands of rows.
    records = [f if isinstance(f, dict) else {"name": f.name, "status": f.status, "detail": f.detail} for f in filters]
    total = sum(max(0.0, weights.get(f, 0.0)) for f in FEATURES) or 1.0
    breakdown = {
        name: {
            "value": round(float(features.get(name, 0.0)), 4),
            "weight": round(max(0.0, weights.get(name, 0.0)) / total, 4),
            "points": round(100.0 * max(0.0, weights.get(name, 0.0)) / total * float(features.get(name, 0.0)), 2),
        }
        for name in FEATURES
    }
    goals = {k: v for k, v in (opportunity_sdgs or {}).items() if "." not in k}
    targets = {k: v for k, v in (opportunity_sdgs or {}).items() if "." in k}
    return {
        "score": score,
        "ranker": ranker,
        "best_passage": best_passage,
        "passage_similarity": None if passage_similarity is None else round(float(passage_similarity), 4),
        "shared_sdg_targets": list(shared_targets),
        "shared_sdg_goals": list(shared_goals),
        "opportunity_sdg_goals": sorted(goals, key=lambda g: -goals[g]),
        "opportunity_sdg_targets": sorted(targets, key=lambda t: -targets[t]),
        "matched_keywords": list(matched_keywords),
        "excluded_keywords": list(excluded_keywords),
        "exclusion_penalty": EXCLUSION_PENALTY if excluded_keywords else 0.0,
        "filters": records,
        "unknown_filters": [f["name"] for f in records if f["status"] == "unknown"],
        "failed_filters": [f["name"] for f in records if f["status"] == "failed"],
        "breakdown": breakdown,
    }
