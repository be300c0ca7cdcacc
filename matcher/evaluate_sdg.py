"""`convoca evaluate sdg`: score the tagger on a labelled file in the SDG benchmark format.

Each row (`id,text,sdg,label`) asks whether `text` addresses SDG `sdg`. The tagger predicts a set of
goals for the text; the row is predicted positive when `sdg` is in that set (the benchmark's own rule).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from convoca.errors import MatchError
from convoca.sdg_codes import GOALS
from matcher.sdg import SdgTagger

log = structlog.stdlib.get_logger("convoca.evaluate")


@dataclass(frozen=True)
class SdgRow:
    id: str
    text: str
    sdg: int
    label: bool


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    tn: int = 0
    fn: int = 0

    def add(self, predicted: bool, label: bool) -> None:
        if predicted and label:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif label:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    def figures(self) -> dict[str, float | int]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        accuracy = (self.tp + self.tn) / self.n if self.n else 0.0
        return {"accuracy": round(accuracy, 4), "precision": round(precision, 4), "recall": round(recall, 4),
                "f1": round(f1, 4), "n": self.n}


@dataclass
class SdgEvaluation:
    pooled: Counts = field(default_factory=Counts)
    per_sdg: dict[int, Counts] = field(default_factory=dict)
    predictions: dict[str, list[int]] = field(default_factory=dict)


_TRUE = {"true", "1", "yes", "t"}
_FALSE = {"false", "0", "no", "f"}


def read_rows(path: Path, skipped: list[str] | None = None) -> list[SdgRow]:
    """Rows of a benchmark-format CSV. A malformed row is reported in `skipped` (file:line: reason)
    and left out; a file without the columns or without any valid row is a MatchError."""
    if not path.exists():
        raise MatchError(f"{path}: file not found")
    rows: list[SdgRow] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"id", "text", "sdg", "label"} - set(reader.fieldnames or [])
        if missing:
            raise MatchError(f"{path}: missing columns {', '.join(sorted(missing))} (expected id,text,sdg,label)")
        for line, raw in enumerate(reader, start=2):
            label = (raw.get("label") or "").strip().lower()
            sdg = str(raw.get("sdg") or "").strip()
            if not sdg.isdigit() or int(sdg) not in GOALS or label not in _TRUE | _FALSE or not (raw.get("text") or "").strip():
                reason = f"{path.name}:{line}: expected text, sdg 1–17 and label True/False, got sdg={sdg!r}, label={label!r}"
                log.warning("sdg_row_skipped", where=f"{path.name}:{line}")
                if skipped is not None:
                    skipped.append(reason)
                continue
            rows.append(SdgRow(str(raw["id"]), raw["text"], int(sdg), label in _TRUE))
    if not rows:
        raise MatchError(f"{path}: no valid row")
    return rows


def evaluate_sdg(rows: Sequence[SdgRow], tagger: SdgTagger,
                 progress: Callable[[int, int], None] | None = None) -> SdgEvaluation:
    # Each distinct text is tagged once, even when several rows ask about it.
    texts = list(dict.fromkeys(r.text for r in rows))
    predicted: dict[str, set[int]] = {}
    batch = 64
    for start in range(0, len(texts), batch):
        part = texts[start:start + batch]
        for text, tags in zip(part, tagger.tag_texts(part)):
            predicted[text] = set(tags.goals)
        if progress:
            progress(min(start + batch, len(texts)), len(texts))
    result = SdgEvaluation()
    for row in rows:
        hit = row.sdg in predicted[row.text]
        result.pooled.add(hit, row.label)
        result.per_sdg.setdefault(row.sdg, Counts()).add(hit, row.label)
        result.predictions[row.id] = sorted(predicted[row.text])
    return result
