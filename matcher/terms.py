"""Fast term matching on folded tokens: which of a fixed list of terms occur in a text.

A term is a word or phrase; a trailing "*" makes its last word a prefix ("fisher*" matches
"fisheries"); a term written in capitals ("HIV", "WASH") matches case-sensitively, so an
acronym does not fire on an ordinary word. Matching ignores accents, treats hyphens as spaces
and accepts a simple plural (s/es) on the last word.

The matcher works on the set of distinct tokens of a text and only walks phrases from words
that start a known phrase, so thousands of terms cost about a millisecond per call text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lowercase without accents, so 'Movilidad eléctrica' meets 'movilidad electrica'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Folded word tokens."""
    return _TOKEN.findall(fold(text))


def _is_acronym(term: str) -> bool:
    letters = [c for c in term if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


@dataclass(frozen=True)
class _Term:
    index: int
    words: tuple[str, ...]
    prefix: bool
    acronym: bool


def _plural_variants(word: str) -> tuple[str, ...]:
    out = [word]
    if word.endswith("es") and len(word) > 4:
        out.append(word[:-2])
    if word.endswith("s") and len(word) > 3:
        out.append(word[:-1])
    return tuple(out)


class TermMatcher:
    """Finds which of `terms` occur in a text; `find` returns their indices."""

    def __init__(self, terms: Sequence[str]):
        self.terms = list(terms)
        # key: first word -> terms that start with it (exact first word); prefix single words apart.
        self._by_first: dict[tuple[bool, str], list[_Term]] = defaultdict(list)
        self._prefix_single: dict[tuple[bool, str], list[int]] = defaultdict(list)
        self._prefix_first: dict[tuple[bool, int], set[str]] = defaultdict(set)
        lengths: set[int] = set()
        for i, raw in enumerate(self.terms):
            raw = raw.strip()
            if not raw:
                continue
            prefix = raw.endswith("*")
            acronym = _is_acronym(raw)
            body = raw.rstrip("*")
            words = tuple(_TOKEN.findall(_strip_accents(body) if acronym else fold(body)))
            if not words:
                continue
            term = _Term(i, words, prefix, acronym)
            if prefix and len(words) == 1:
                self._prefix_single[(acronym, words[0])].append(i)
                lengths.add(len(words[0]))
            else:
                self._by_first[(acronym, words[0])].append(term)
        self._prefix_lengths = sorted(lengths)

    def find(self, text: str) -> set[int]:
        if not text:
            return set()
        plain = _strip_accents(text)
        cased = _TOKEN.findall(plain)
        lower = [t.lower() for t in cased]
        found: set[int] = set()
        for seq, acronym in ((lower, False), (cased, True)):
            distinct = set(seq)
            for word in distinct:
                for n in self._prefix_lengths:
                    if n > len(word):
                        break
                    hit = self._prefix_single.get((acronym, word[:n]))
                    if hit:
                        found.update(hit)
            # A text word may be a plural of a term's first (or only) word.
            candidates: dict[str, list[str]] = defaultdict(list)  # term first word -> text words
            for word in distinct:
                for variant in _plural_variants(word):
                    if (acronym, variant) in self._by_first:
                        candidates[variant].append(word)
            if not candidates:
                continue
            wanted = {w for words in candidates.values() for w in words}
            positions: dict[str, list[int]] = defaultdict(list)
            for pos, w in enumerate(seq):
                if w in wanted:
                    positions[w].append(pos)
            for first, words in candidates.items():
                starts = [p for w in words for p in positions[w]]
                for term in self._by_first[(acronym, first)]:
                    if term.index not in found and self._matches_at(seq, starts, term):
                        found.add(term.index)
        return found

    @staticmethod
    def _matches_at(seq: list[str], starts: Iterable[int], term: _Term) -> bool:
        k = len(term.words)
        for pos in starts:
            if pos + k > len(seq):
                continue
            if any(seq[pos + j] != term.words[j] for j in range(k - 1)):
                continue
            last = seq[pos + k - 1]
            want = term.words[-1]
            if term.prefix:
                if last.startswith(want):
                    return True
            elif want in _plural_variants(last) or last == want:
                return True
        return False


__all__ = ["TermMatcher", "fold", "tokens"]
