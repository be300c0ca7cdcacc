"""Explanations as data: what the web page and the email render to say why a call fits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from matcher.scoring import FEATURES, FilterOutcome


def build_explanation(
    *,
    filters: Sequence[FilterOutcome],
    features: dict[str, float],
    weights: dict[str, float],
    best_passage: str | None,
    passage_similarity: float | None,
    shared_targets: Sequence[str],
    shared_goals: Sequence[str],
    matched_keywords: Sequence[str],
    excluded_keywords: Sequence[str],
    score: float,
) -> dict[str, Any]:
    total = sum(weights.get(f, 0.0) for f in FEATURES) or 1.0
    breakdown = {
        name: {
            "value": round(float(features.get(name, 0.0)), 4),
            "weight": round(weights.get(name, 0.0) / total, 4),
            "points": round(100.0 * weights.get(name, 0.0) / total * float(features.get(name, 0.0)), 2),
        }
        for name in FEATURES
    }
    return {
        "score": score,
        "best_passage": best_passage,
        "passage_similarity": None if passage_similarity is None else round(float(passage_similarity), 4),
        "shared_sdg_targets": list(shared_targets),
        "shared_sdg_goals": list(shared_goals),
        "matched_keywords": list(matched_keywords),
        "excluded_keywords": list(excluded_keywords),
        "filters": [asdict(f) for f in filters],
        "unknown_filters": [f.name for f in filters if f.status == "unknown"],
        "breakdown": breakdown,
    }
