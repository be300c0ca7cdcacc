"""Learning from feedback: per municipality, re-weight the scoring features from formulators' verdicts.

Once a municipality has at least MIN_LABELS usable verdicts (both kinds present), a scikit-learn
logistic regression over the same four features is fitted; its non-negative coefficients become
that municipality's weights, so scores stay on the same 0–100 scale and the explanation's
breakdown still adds up. The learned weights are used only if, on held-out verdicts
(stratified cross-validation), they rank better (average precision) than the configured ones;
otherwise, and below MIN_LABELS, the configured weights stay.

Which verdicts count: "relevant" and "applying" are positives; "not_relevant" is a negative when
its reason is about fit ("not_aligned", "other", none). Reasons such as "not_eligible",
"deadline_too_short", "no_capacity", "no_counterpart_funding" or "duplicate" say nothing about
how well the features describe fit (hard filters and the municipality's capacity decide those),
so they do not train the ranker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import structlog
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.scoring import FEATURES
from models import Feedback, Match

log = structlog.stdlib.get_logger("convoca.feedback")

MIN_LABELS = 20
MIN_GAIN = 0.01  # average-precision points the learned weights must win by on held-out verdicts
POSITIVE = {"relevant", "applying"}
FIT_REASONS = {None, "", "not_aligned", "other"}


@dataclass(frozen=True)
class LearnedWeights:
    weights: dict[str, float]
    labels: int
    heldout_ap_learned: float
    heldout_ap_configured: float


def label_of(verdict: str, reason: str | None) -> int | None:
    """1, 0, or None when the verdict does not speak about fit."""
    if verdict in POSITIVE:
        return 1
    if verdict == "not_relevant" and reason in FIT_REASONS:
        return 0
    return None


def _weights_vector(weights: dict[str, float]) -> np.ndarray:
    w = np.asarray([max(0.0, float(weights.get(f, 0.0))) for f in FEATURES])
    return w / w.sum() if w.sum() > 0 else np.full(len(FEATURES), 1.0 / len(FEATURES))


def _fit(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray | None:
    model = LogisticRegression(C=1.0, class_weight="balanced", random_state=seed, max_iter=1000)
    model.fit(x, y)
    coef = np.clip(model.coef_[0], 0.0, None)
    return coef / coef.sum() if coef.sum() > 0 else None


def learn_weights(x: np.ndarray, y: np.ndarray, configured: dict[str, float], *, seed: int = 0,
                  min_labels: int = MIN_LABELS) -> LearnedWeights | None:
    """Learned weights when they beat the configured ones on held-out labels; otherwise None.

    x: (n, 4) feature rows in FEATURES order; y: (n,) 0/1.
    """
    y = np.asarray(y, dtype=int)
    n = len(y)
    positives = int(y.sum())
    minority = min(positives, n - positives)
    if n < min_labels or minority < 2:
        return None
    folds = StratifiedKFold(n_splits=min(5, minority), shuffle=True, random_state=seed)
    base = _weights_vector(configured)
    ap_learned: list[float] = []
    ap_configured: list[float] = []
    for train, test in folds.split(x, y):
        if len(set(y[train])) < 2 or len(set(y[test])) < 2:
            continue
        w = _fit(x[train], y[train], seed)
        if w is None:
            return None
        ap_learned.append(float(average_precision_score(y[test], x[test] @ w)))
        ap_configured.append(float(average_precision_score(y[test], x[test] @ base)))
    if not ap_learned:
        return None
    learned, configured_ap = float(np.mean(ap_learned)), float(np.mean(ap_configured))
    if learned < configured_ap + MIN_GAIN:
        return None
    w = _fit(x, y, seed)
    if w is None:
        return None
    return LearnedWeights({f: round(float(v), 4) for f, v in zip(FEATURES, w)}, n, round(learned, 4),
                          round(configured_ap, 4))


def training_rows(session: Session, municipality_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels from a municipality's feedback; the latest verdict per match counts."""
    rows = session.execute(
        select(Feedback.match_id, Feedback.verdict, Feedback.reason, Match.components)
        .join(Match, Match.id == Feedback.match_id)
        .where(Feedback.municipality_id == municipality_id)
        .order_by(Feedback.match_id, Feedback.created_at, Feedback.id)
    ).all()
    latest: dict[int, tuple[str, str | None, dict[str, float]]] = {}
    for match_id, verdict, reason, components in rows:
        latest[match_id] = (verdict, reason, components or {})
    xs: list[list[float]] = []
    ys: list[int] = []
    for verdict, reason, components in latest.values():
        label = label_of(verdict, reason)
        if label is None:
            continue
        xs.append([float(components.get(f, 0.0)) for f in FEATURES])
        ys.append(label)
    return np.asarray(xs, dtype=np.float32).reshape(-1, len(FEATURES)), np.asarray(ys, dtype=int)


def weights_for(session: Session, municipality_id: int, configured: dict[str, float]) -> tuple[dict[str, float], str, LearnedWeights | None]:
    """(weights, "learned" | "configured", details) for one municipality."""
    x, y = training_rows(session, municipality_id)
    learned = learn_weights(x, y, configured)
    if learned is None:
        log.info("ranker_configured", municipality_id=municipality_id, labels=len(y))
        return configured, "configured", None
    log.info("ranker_learned", municipality_id=municipality_id, labels=learned.labels,
             ap_learned=learned.heldout_ap_learned, ap_configured=learned.heldout_ap_configured)
    return learned.weights, "learned", learned


def simulate_labels(relevance: Sequence[int]) -> np.ndarray:
    """Graded relevance (0/1/2) as the verdicts a formulator would give: relevant when ≥ 1."""
    return (np.asarray(relevance) >= 1).astype(int)
