"""Score one batch of calls against a set of profiles: the step shared by `convoca match` and
`convoca evaluate ranking`, so the evaluation measures exactly what users get."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher.lexical import KeywordEvidence, keyword_evidence
from matcher.scoring import (
    FEATURES,
    OpportunityArrays,
    OpportunitySpec,
    ProfileSpec,
    best_passages,
    calibrate_semantic,
    combine_matrix,
    filter_matrix,
    passes_all,
    sdg_alignment_matrix,
    urgency_matrix,
    weight_matrix,
)


@dataclass
class ScoredBatch:
    filters: dict[str, np.ndarray]  # name -> (P, O) int8
    passed: np.ndarray  # (P, O) bool
    features: dict[str, np.ndarray]  # name -> (P, O) float32
    keywords: KeywordEvidence
    weights: np.ndarray  # (P, 4)
    scores: np.ndarray  # (P, O) 0–100
    best_similarity: np.ndarray  # (P, O) raw cosine of the best passage
    best_passage: np.ndarray  # (P, O) global passage index
    profile_vecs: np.ndarray
    passage_vecs: np.ndarray
    owner_starts: np.ndarray

    def top_passages(self, pi: int, oi: int, k: int = 2) -> list[tuple[int, float]]:
        """The call's k passages closest to the profile: (global index, cosine), best first."""
        start = int(self.owner_starts[oi])
        end = int(self.owner_starts[oi + 1]) if oi + 1 < len(self.owner_starts) else self.passage_vecs.shape[0]
        sims = (self.passage_vecs[start:end] @ self.profile_vecs[pi]).tolist()  # a few floats: plain Python is faster
        order = sorted(range(len(sims)), key=sims.__getitem__, reverse=True)[:k]
        return [(start + j, sims[j]) for j in order]

    def feature_row(self, pi: int, oi: int) -> dict[str, float]:
        return {name: round(float(self.features[name][pi, oi]), 4) for name in FEATURES}


def score_batch(profiles: Sequence[ProfileSpec], opps: Sequence[OpportunitySpec], arrays: OpportunityArrays,
                profile_vecs: np.ndarray, passage_vecs: np.ndarray, owner_starts: np.ndarray, backend: str,
                weights: np.ndarray | None = None, keywords: KeywordEvidence | None = None) -> ScoredBatch:
    """Filters, features and scores for every (profile, call) pair of the batch.

    `keywords` may be computed by the caller with a corpus-wide idf; by default the batch is the corpus.
    """
    filters = filter_matrix(profiles, arrays)
    passed = passes_all(filters)
    best, arg = best_passages(profile_vecs, passage_vecs, owner_starts)
    if keywords is None:
        keywords = keyword_evidence([p.keywords for p in profiles], [p.exclude for p in profiles], [o.text for o in opps])
    features = {
        "semantic": calibrate_semantic(best, backend),
        "sdg": sdg_alignment_matrix(profiles, arrays),
        "keywords": keywords.score,
        "urgency": urgency_matrix(profiles, arrays),
    }
    w = weight_matrix(profiles) if weights is None else weights
    scores = combine_matrix(features, w, keywords.excluded, passed)
    return ScoredBatch(filters, passed, features, keywords, w, scores, best, arg, profile_vecs, passage_vecs, owner_starts)
