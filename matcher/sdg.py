"""SDG target tagging by similarity to the project's own target descriptions (es + en).

Each target is represented by its Spanish and English descriptions; a call's score for a
target is the best cosine between any of its passages and either description, calibrated to
0..1. A goal scores as its best target.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from convoca.errors import MatchError
from matcher.embedding import Embedder

SDG_FILE = Path(__file__).parent / "resources" / "sdg.yaml"
TAGGER_VERSION = "sdg-v1"


@dataclass(frozen=True)
class SdgCatalogue:
    goals: dict[int, dict[str, Any]]
    targets: list[tuple[str, str, str]]  # (code, es, en)


@lru_cache(maxsize=2)
def load_catalogue(path: Path = SDG_FILE) -> SdgCatalogue:
    if not path.exists():
        raise MatchError(f"SDG descriptions not found at {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    goals: dict[int, dict[str, Any]] = {}
    targets: list[tuple[str, str, str]] = []
    for goal in data["goals"]:
        goals[int(goal["goal"])] = goal
        for t in goal["targets"]:
            targets.append((str(t["target"]), t["es"], t["en"]))
    return SdgCatalogue(goals, targets)


class SdgTagger:
    def __init__(self, embedder: Embedder, *, low: float = 0.30, high: float = 0.55, keep: float = 0.25, top_k: int = 6):
        self.embedder = embedder
        self.low, self.high, self.keep, self.top_k = low, high, keep, top_k
        self._target_vecs: np.ndarray | None = None
        self.catalogue = load_catalogue()

    @property
    def model_id(self) -> str:
        return f"{TAGGER_VERSION}|{self.embedder.model_id}"

    def _targets(self) -> np.ndarray:
        if self._target_vecs is None:
            texts = [t[1] for t in self.catalogue.targets] + [t[2] for t in self.catalogue.targets]
            vecs = self.embedder.encode(texts)
            n = len(self.catalogue.targets)
            self._target_vecs = np.stack([vecs[:n], vecs[n:]])  # (2, T, d)
        return self._target_vecs

    def tag(self, passage_vecs: np.ndarray) -> dict[str, float]:
        """Scores of the kept targets and of their goals for one call's passages."""
        if passage_vecs.size == 0:
            return {}
        targets = self._targets()
        sims = np.einsum("ltd,pd->ltp", targets, passage_vecs).max(axis=(0, 2))  # (T,)
        scores = np.clip((sims - self.low) / (self.high - self.low), 0.0, 1.0)
        order = np.argsort(-scores)[: self.top_k]
        out: dict[str, float] = {}
        for i in order:
            if scores[i] < self.keep:
                break
            code = self.catalogue.targets[i][0]
            out[code] = round(float(scores[i]), 4)
            goal = code.split(".")[0]
            out[goal] = max(out.get(goal, 0.0), out[code])
        return out
