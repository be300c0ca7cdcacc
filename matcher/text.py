"""What is embedded: the profile text and the opportunity's passages.

RECIPE names this module's choices; it is part of every cache key, so changing how texts are
built invalidates cached vectors without a migration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RECIPE = "text-v1"
PASSAGE_WORDS = 80
PASSAGE_OVERLAP = 20
MAX_PASSAGES = 12

_SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n+")


@dataclass(frozen=True)
class ProfileText:
    title: str
    description: str
    keywords: tuple[str, ...] = ()

    def text(self) -> str:
        parts = [self.title.strip().rstrip(".") + ".", self.description.strip()]
        if self.keywords:
            parts.append(", ".join(self.keywords) + ".")
        return " ".join(parts)


def chunk(body: str | None) -> list[str]:
    """Body text in overlapping windows of about PASSAGE_WORDS words, split at sentence ends."""
    body = (body or "").strip()
    if not body:
        return []
    sentences = [s.strip() for s in _SENTENCE.split(body) if s.strip()]
    out: list[str] = []
    window: list[str] = []
    count = 0
    for sentence in sentences:
        words = len(sentence.split())
        if window and count + words > PASSAGE_WORDS:
            out.append(" ".join(window))
            # Keep the tail of the previous window so a sentence pair split at the border is seen whole.
            tail: list[str] = []
            tail_count = 0
            for prev in reversed(window):
                tail_count += len(prev.split())
                if tail_count > PASSAGE_OVERLAP:
                    break
                tail.insert(0, prev)
            window, count = tail, sum(len(s.split()) for s in tail)
        window.append(sentence)
        count += words
        if len(out) >= MAX_PASSAGES - 1:
            break
    if window and len(out) < MAX_PASSAGES - 1:
        out.append(" ".join(window))
    return [p if len(p.split()) <= PASSAGE_WORDS * 2 else " ".join(p.split()[: PASSAGE_WORDS * 2]) for p in out]


def passages(title: str, description: str | None, summary: str | None = None) -> list[str]:
    """The title as one passage (it names the theme), then the body in overlapping windows."""
    return [title.strip()] + chunk(description or summary)
