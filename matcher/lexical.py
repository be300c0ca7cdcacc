"""Lexical evidence: the profile's keywords and exclusions found in a call, weighted by TF-IDF.

An exact term ("movilidad eléctrica", "DRR") must not be lost in an embedding. Terms are found
with the accent-insensitive matcher of matcher.terms; scikit-learn's TfidfTransformer weighs
each term by its inverse document frequency over the calls being scored, so a rare, specific
keyword counts more than one that half the calls contain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer

from matcher.terms import TermMatcher, fold

# Evidence reaches 1 when the matched keywords weigh as much as this many average terms.
SATURATION_TERMS = 3.0


@dataclass
class KeywordEvidence:
    score: np.ndarray  # (P, O) float32 0..1
    excluded: np.ndarray  # (P, O) bool: an exclusion term occurs
    vocabulary: list[str]
    hits: sparse.csr_matrix  # (O, V) term present
    keyword_ids: list[np.ndarray]  # per profile, vocabulary ids of its keywords
    exclude_ids: list[np.ndarray]
    keyword_terms: list[list[str]]  # per profile, keywords as written (same order as ids)
    exclude_terms: list[list[str]]

    def _row(self, oi: int) -> set[int]:
        cache: dict[int, set[int]] = self.__dict__.setdefault("_rows", {})
        if oi not in cache:
            cache[oi] = set(self.hits.indices[self.hits.indptr[oi]:self.hits.indptr[oi + 1]].tolist())
        return cache[oi]

    def matched(self, pi: int, oi: int) -> tuple[list[str], list[str]]:
        """Keywords and exclusions of profile `pi` found in call `oi`, as the profile wrote them."""
        row = self._row(oi)
        if not row:
            return [], []
        kw = [t for t, v in zip(self.keyword_terms[pi], self.keyword_ids[pi]) if v in row]
        ex = [t for t, v in zip(self.exclude_terms[pi], self.exclude_ids[pi]) if v in row]
        return kw, ex


class KeywordVocabulary:
    """The union of the profiles' keywords and exclusions, and a matcher for all of them at once."""

    def __init__(self, keywords: Sequence[Sequence[str]], exclusions: Sequence[Sequence[str]]):
        vocab: dict[str, int] = {}

        def ids(terms: Sequence[str]) -> tuple[np.ndarray, list[str]]:
            out: list[int] = []
            kept: list[str] = []
            for term in terms:
                key = fold(term).strip()
                if not key:
                    continue
                out.append(vocab.setdefault(key, len(vocab)))
                kept.append(term)
            return np.asarray(out, dtype=np.int64), kept

        kw = [ids(k) for k in keywords]
        ex = [ids(e) for e in exclusions]
        self.terms = list(vocab)
        self.keyword_ids = [k[0] for k in kw]
        self.exclude_ids = [e[0] for e in ex]
        self.keyword_terms = [k[1] for k in kw]
        self.exclude_terms = [e[1] for e in ex]
        self._keyword_matrix = _membership(kw, len(keywords), max(len(self.terms), 1))
        self._exclude_matrix = _membership(ex, len(exclusions), max(len(self.terms), 1))
        self._matcher = TermMatcher(self.terms)

    def hits(self, texts: Sequence[str]) -> list[tuple[int, ...]]:
        """Per text, the vocabulary ids found in it."""
        return [tuple(sorted(self._matcher.find(text))) for text in texts]

    def hit_matrix(self, rows: Sequence[Sequence[int]]) -> sparse.csr_matrix:
        data_rows = [oi for oi, found in enumerate(rows) for _ in found]
        cols = [v for found in rows for v in found]
        return sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (data_rows, cols)),
                                 shape=(len(rows), max(len(self.terms), 1)))

    def idf(self, rows: Sequence[Sequence[int]]) -> np.ndarray:
        """Inverse document frequency over a corpus of calls (scikit-learn's smooth idf)."""
        return TfidfTransformer(smooth_idf=True).fit(self.hit_matrix(rows)).idf_.astype(np.float32)

    def evidence(self, rows: Sequence[Sequence[int]], idf: np.ndarray) -> KeywordEvidence:
        """(P, O) evidence for the calls whose hits are `rows`, with a given idf (corpus-wide, so a
        call's evidence does not depend on which other calls share its batch)."""
        hits = self.hit_matrix(rows)
        p_count = len(self.keyword_ids)
        if not self.terms or not rows:
            zeros = np.zeros((p_count, len(rows)), dtype=np.float32)
            return KeywordEvidence(zeros, zeros.astype(bool), self.terms, hits, self.keyword_ids, self.exclude_ids,
                                   self.keyword_terms, self.exclude_terms)
        weighted = hits.multiply(idf[None, :]).tocsr()
        raw = np.asarray((self._keyword_matrix @ weighted.T).todense(), dtype=np.float32)
        score = np.clip(raw / (SATURATION_TERMS * float(idf.mean())), 0.0, 1.0)
        excluded = np.asarray((self._exclude_matrix @ hits.T).todense()) > 0
        return KeywordEvidence(score, excluded, self.terms, hits, self.keyword_ids, self.exclude_ids,
                               self.keyword_terms, self.exclude_terms)


def keyword_evidence(keywords: Sequence[Sequence[str]], exclusions: Sequence[Sequence[str]],
                     texts: Sequence[str]) -> KeywordEvidence:
    """Evidence for P profiles (their keyword and exclusion lists) over O call texts (idf over these texts)."""
    vocabulary = KeywordVocabulary(keywords, exclusions)
    rows = vocabulary.hits(texts)
    idf = vocabulary.idf(rows) if vocabulary.terms and rows else np.ones(max(len(vocabulary.terms), 1), np.float32)
    return vocabulary.evidence(rows, idf)


def _membership(per_profile: list[tuple[np.ndarray, list[str]]], p_count: int, v_count: int) -> sparse.csr_matrix:
    rows = [pi for pi, (ids, _) in enumerate(per_profile) for _ in ids]
    cols = [int(v) for ids, _ in per_profile for v in ids]
    data = np.ones(len(rows), dtype=np.float32)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(p_count, v_count))
    matrix.data[:] = 1.0  # a keyword listed twice counts once
    return matrix
