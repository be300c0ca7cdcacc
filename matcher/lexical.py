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

    def matched(self, pi: int, oi: int) -> tuple[list[str], list[str]]:
        """Keywords and exclusions of profile `pi` found in call `oi`, as the profile wrote them."""
        row = set(self.hits.indices[self.hits.indptr[oi]:self.hits.indptr[oi + 1]].tolist())
        kw = [t for t, v in zip(self.keyword_terms[pi], self.keyword_ids[pi]) if v in row]
        ex = [t for t, v in zip(self.exclude_terms[pi], self.exclude_ids[pi]) if v in row]
        return kw, ex


def keyword_evidence(keywords: Sequence[Sequence[str]], exclusions: Sequence[Sequence[str]],
                     texts: Sequence[str]) -> KeywordEvidence:
    """Evidence for P profiles (their keyword and exclusion lists) over O call texts."""
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
    vocabulary = list(vocab)
    p_count, o_count, v_count = len(keywords), len(texts), len(vocabulary)
    matcher = TermMatcher(vocabulary)
    rows: list[int] = []
    cols: list[int] = []
    for oi, text in enumerate(texts):
        found = matcher.find(text)
        rows.extend([oi] * len(found))
        cols.extend(found)
    hits = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(o_count, max(v_count, 1)))
    if v_count == 0 or o_count == 0:
        zeros = np.zeros((p_count, o_count), dtype=np.float32)
        return KeywordEvidence(zeros, zeros.astype(bool), vocabulary, hits, [k[0] for k in kw], [e[0] for e in ex],
                               [k[1] for k in kw], [e[1] for e in ex])
    idf = TfidfTransformer(smooth_idf=True).fit(hits).idf_.astype(np.float32)
    weighted = hits.multiply(idf[None, :]).tocsr()
    keyword_matrix = _membership(kw, p_count, v_count)
    exclude_matrix = _membership(ex, p_count, v_count)
    raw = np.asarray((keyword_matrix @ weighted.T).todense(), dtype=np.float32)
    score = np.clip(raw / (SATURATION_TERMS * float(idf.mean())), 0.0, 1.0)
    excluded = np.asarray((exclude_matrix @ hits.T).todense()) > 0
    return KeywordEvidence(score, excluded, vocabulary, hits, [k[0] for k in kw], [e[0] for e in ex],
                           [k[1] for k in kw], [e[1] for e in ex])


def _membership(per_profile: list[tuple[np.ndarray, list[str]]], p_count: int, v_count: int) -> sparse.csr_matrix:
    rows = [pi for pi, (ids, _) in enumerate(per_profile) for _ in ids]
    cols = [int(v) for ids, _ in per_profile for v in ids]
    data = np.ones(len(rows), dtype=np.float32)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(p_count, v_count))
    matrix.data[:] = 1.0  # a keyword listed twice counts once
    return matrix
