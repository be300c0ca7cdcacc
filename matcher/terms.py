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
_CASED_TOKEN = re.compile(r"\w*[A-Z]\w*|\d+")  # tokens an acronym (or its digits, "PM2.5") can match


_LIGATURES = str.maketrans({"\u2019": "'", "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    # NFKD then ASCII drops the accents in C; the few other characters that matter are mapped first.
    return unicodedata.normalize("NFKD", text.translate(_LIGATURES)).encode("ascii", "ignore").decode("ascii")


def fold(text: str) -> str:
    """Lowercase without accents, so 'Movilidad eléctrica' meets 'movilidad electrica'."""
    return _strip_accents(text.lower())


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
    last_forms: frozenset[str]  # accepted spellings of the last word (a simple plural)
    inner: frozenset[str]  # every word but the last: all must occur in the text


def _forms(word: str) -> frozenset[str]:
    return frozenset({word, word + "s", word + "es"})


class TermMatcher:
    """Finds which of `terms` occur in a text; `find` returns their indices."""

    def __init__(self, terms: Sequence[str]):
        self.terms = list(terms)
        # Per case mode (False: folded words, True: acronyms as written):
        #   text word → the first word of the multi-word or exact terms it can start (plurals included);
        #   first word → those terms; single-word prefixes indexed by their first three letters.
        self._first_of: dict[bool, dict[str, set[str]]] = {False: defaultdict(set), True: defaultdict(set)}
        self._by_first: dict[bool, dict[str, list[_Term]]] = {False: defaultdict(list), True: defaultdict(list)}
        self._prefixes: dict[bool, dict[str, list[tuple[str, int]]]] = {False: defaultdict(list), True: defaultdict(list)}
        self._short_prefixes: dict[bool, list[tuple[str, int]]] = {False: [], True: []}
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
            if prefix and len(words) == 1:
                if len(words[0]) >= 3:
                    self._prefixes[acronym][words[0][:3]].append((words[0], i))
                else:
                    self._short_prefixes[acronym].append((words[0], i))
                continue
            term = _Term(i, words, prefix, _forms(words[-1]), frozenset(words[:-1]))
            self._by_first[acronym][words[0]].append(term)
            # A single-word term's only word may carry a plural; a phrase's first word is exact.
            spellings = _forms(words[0]) if len(words) == 1 else {words[0]}
            for spelling in spellings:
                self._first_of[acronym][spelling].add(words[0])
        self._acronyms = any(self._by_first[True]) or any(self._prefixes[True]) or bool(self._short_prefixes[True])

    def find(self, text: str) -> set[int]:
        if not text:
            return set()
        plain = _strip_accents(text)
        found: set[int] = set()
        passes: list[tuple[list[str], bool]] = [(_TOKEN.findall(plain.lower()), False)]
        if self._acronyms:
            passes.append((_CASED_TOKEN.findall(plain), True))
        for seq, acronym in passes:
            distinct = set(seq)
            prefixes, short, first_of = self._prefixes[acronym], self._short_prefixes[acronym], self._first_of[acronym]
            starts_of: dict[str, list[str]] = {}
            if prefixes:
                for word in distinct:
                    for stem, index in prefixes.get(word[:3], ()):
                        if word.startswith(stem):
                            found.add(index)
            for stem, index in short:
                found.update(index for word in distinct if word.startswith(stem))
            for word in distinct & first_of.keys():  # set intersection runs in C
                for first in first_of[word]:
                    starts_of.setdefault(first, []).append(word)
            if not starts_of:
                continue
            positions: dict[str, list[int]] | None = None
            for first, words in starts_of.items():
                for term in self._by_first[acronym][first]:
                    if term.index in found:
                        continue
                    if len(term.words) == 1:
                        if any(w in term.last_forms for w in words):
                            found.add(term.index)
                        continue
                    if not term.inner <= distinct or (not term.prefix and term.last_forms.isdisjoint(distinct)):
                        continue
                    if positions is None:
                        wanted = {w for ws in starts_of.values() for w in ws}
                        positions = defaultdict(list)
                        for pos, w in enumerate(seq):
                            if w in wanted:
                                positions[w].append(pos)
                    if self._phrase_at(seq, [p for w in words for p in positions[w]], term):
                        found.add(term.index)
        return found

    @staticmethod
    def _phrase_at(seq: list[str], starts: Iterable[int], term: _Term) -> bool:
        k = len(term.words)
        for pos in starts:
            if pos + k > len(seq) or seq[pos] != term.words[0]:
                continue
            if any(seq[pos + j] != term.words[j] for j in range(1, k - 1)):
                continue
            last = seq[pos + k - 1]
            if (last.startswith(term.words[-1]) if term.prefix else last in term.last_forms):
                return True
        return False


__all__ = ["TermMatcher", "fold", "tokens"]
