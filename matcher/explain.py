"""Explanations as data: what the web page and the email render to say why a call fits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from matcher.rank import ScoredBatch
from matcher.scoring import (
    EXCLUSION_PENALTY,
    FEATURES,
    FILTERS,
    STATUS_NAMES,
    OpportunitySpec,
    ProfileSpec,
)


class Explainer:
    """Explanations for many pairs of one scored batch, as data.

    What depends only on the call (its facts, its SDGs) or only on the profile (weights) is built
    once and shared; thousands of stored matches cost a few tens of microseconds each.
    Keys: score, ranker, best_passage(s), passage_similarity, shared_sdg_targets/goals (the call's
    own SDG tags are in the sdg_tag table), matched/excluded_keywords, exclusion_penalty, filters (name,
    status passed/failed/unknown, the call's facts), unknown_filters, failed_filters, breakdown.
    """

    def __init__(self, batch: ScoredBatch, profiles: Sequence[ProfileSpec] | Mapping[int, ProfileSpec],
                 opps: Sequence[OpportunitySpec] | Mapping[int, OpportunitySpec], passages: Sequence[str], today: date,
                 rankers: Sequence[str] | Mapping[int, str] | None = None):
        self.batch, self.profiles, self.opps, self.passages, self.today = batch, profiles, opps, passages, today
        self.rankers = rankers
        self._status = np.stack([batch.filters[name] for name in FILTERS])  # (7, P, O)
        self._features = np.stack([batch.features[name] for name in FEATURES])  # (4, P, O)
        self._opp: dict[int, tuple[dict[str, Any], ...]] = {}
        self._weights: dict[int, list[float]] = {}
        self._sdg: dict[int, tuple[list[str], list[str]]] = {}
        self._side: dict[int, tuple[dict[str, Any] | None, ...]] = {}

    def _call_part(self, oi: int) -> tuple[dict[str, Any], ...]:
        part = self._opp.get(oi)
        if part is None:
            o = self.opps[oi]
            days_left = (o.deadline.date() - self.today).days if o.deadline else None
            facts: tuple[dict[str, Any], ...] = (
                {"status": o.status}, {"days_left": days_left}, {"eligible": list(o.eligible_countries or [])},
                {"eligible": list(o.eligible_applicants or [])}, {"type": o.cooperation_type},
                {"amount_min_cop": o.amount_min_cop, "amount_max_cop": o.amount_max_cop}, {"language": o.language},
            )
            part = self._opp[oi] = facts
        return part

    def _profile_weights(self, pi: int) -> list[float]:
        w = self._weights.get(pi)
        if w is None:
            w = self._weights[pi] = [round(float(x), 4) for x in self.batch.weights[pi]]
        return w

    def _profile_side(self, pi: int) -> tuple[dict[str, Any] | None, ...]:
        """What the profile brings to each filter's detail (the call's facts are shared per call)."""
        part = self._side.get(pi)
        if part is None:
            p = self.profiles[pi]
            part = self._side[pi] = (
                None, {"lead_days": p.min_lead_days}, {"country": p.country},
                {"applicant_types": list(p.applicant_types)}, {"accepted": list(p.cooperation_types)},
                {"budget_min_cop": p.budget_min_cop, "budget_max_cop": p.budget_max_cop},
                {"languages": list(p.languages or [])},
            )
        return part

    def _profile_sdgs(self, pi: int) -> tuple[list[str], list[str]]:
        part = self._sdg.get(pi)
        if part is None:
            targets = list(self.profiles[pi].sdg_targets)
            part = self._sdg[pi] = (targets, sorted({t.split(".")[0] for t in targets}, key=int))
        return part

    def __call__(self, pi: int, oi: int) -> dict[str, Any]:
        batch, opp = self.batch, self.opps[oi]
        facts = self._call_part(oi)
        statuses = self._status[:, pi, oi].tolist()
        side = self._profile_side(pi)
        filters = [{"name": name, "status": STATUS_NAMES[st], "detail": {**detail, **extra} if extra else detail}
                   for name, st, detail, extra in zip(FILTERS, statuses, facts, side)]
        values = self._features[:, pi, oi].round(4).tolist()
        weights = self._profile_weights(pi)
        matched, excluded = batch.keywords.matched(pi, oi)
        profile_targets, profile_goals = self._profile_sdgs(pi)
        shared_targets = [t for t in profile_targets if opp.sdg_scores.get(t, 0.0) > 0]
        shared_goals = [g for g in profile_goals if opp.sdg_scores.get(g, 0.0) > 0]
        best = int(batch.best_passage[pi, oi])
        return {
            "score": float(batch.scores[pi, oi]),
            "ranker": self.rankers[pi] if self.rankers else "configured",
            "best_passage": self.passages[best],
            "best_passages": [{"text": self.passages[j], "similarity": round(sim, 4)}
                              for j, sim in batch.top_passages(pi, oi)],
            "passage_similarity": round(float(batch.best_similarity[pi, oi]), 4),
            "shared_sdg_targets": shared_targets,
            "shared_sdg_goals": shared_goals,
            "matched_keywords": matched,
            "excluded_keywords": excluded,
            "exclusion_penalty": EXCLUSION_PENALTY if excluded else 0.0,
            "filters": filters,
            "unknown_filters": [f["name"] for f in filters if f["status"] == "unknown"],
            "failed_filters": [f["name"] for f in filters if f["status"] == "failed"],
            "breakdown": {name: {"value": v, "weight": w, "points": round(100.0 * w * v, 2)}
                          for name, v, w in zip(FEATURES, values, weights)},
        }


def explain_pair(batch: ScoredBatch, pi: int, oi: int, profile: ProfileSpec, opp: OpportunitySpec,
                 passages: Sequence[str], today: date, *, ranker: str = "configured") -> dict[str, Any]:
    """One pair's explanation (see Explainer)."""
    return Explainer(batch, {pi: profile}, {oi: opp}, passages, today, {pi: ranker})(pi, oi)
