"""SDG tagging: which of the 17 goals (and which of the 169 targets) a text addresses, in es/en/fr/pt.

How a goal is decided, for one text:
1. Semantic evidence: the text's vector (the mean of its passage vectors) is compared with the
   project's own descriptions of each goal (name, summary and every target, in Spanish and
   English); the goal's similarity is the mean of its `top_k` best prototypes.
2. That similarity is standardised per goal with a calibration (mean and spread of the goal's
   similarity over a reference corpus of unlabelled texts, per embedding backend), because some
   goals sit closer to every text than others.
3. Lexical evidence: the number of distinct terms of the goal's lexicon (es/en/fr/pt) found in
   the text, on a log scale.
4. evidence = z + lexicon_weight * log(1 + terms); a goal is tagged when its evidence reaches
   `threshold`, and the strongest goal is always tagged. Two global parameters, chosen by
   cross-validation on the SDG benchmark and checked on the project's Spanish set.

Targets are named inside each tagged goal by similarity to target descriptions (the project's own,
plus the official UN wording when an operator has imported it with `convoca sdg import`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import structlog
import yaml

from convoca.errors import MatchError
from convoca.sdg_codes import GOALS, goal_of
from matcher.embedding import Embedder, encode_queries
from matcher.terms import TermMatcher
from matcher.text import chunk

log = structlog.stdlib.get_logger("convoca.sdg")

RESOURCES = Path(__file__).parent / "resources"
SDG_FILE = RESOURCES / "sdg.yaml"
LEXICON_FILE = RESOURCES / "sdg_lexicon.yaml"
CALIBRATION_FILE = RESOURCES / "sdg_calibration.json"
TAGGER_VERSION = "sdg-v2"
N_GOALS = len(GOALS)
# libyaml's safe loader when the wheel has it: the resource files load in milliseconds instead of 0.5 s.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Prototype:
    goal: int
    target: str | None  # None for a goal-level text (name, summary)
    language: str
    text: str
    origin: str = "convoca"  # or "official" (imported)


@dataclass(frozen=True)
class SdgCatalogue:
    goal_names: dict[int, dict[str, str]]
    prototypes: tuple[Prototype, ...]  # the project's own texts: they decide goals
    target_texts: tuple[Prototype, ...]  # own + imported target texts: they name targets
    lexicon: tuple[tuple[int, str], ...]  # (goal, term)

    @property
    def digest(self) -> str:
        payload = "\n".join(f"{p.goal}|{p.target}|{p.language}|{p.text}" for p in self.prototypes)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=1)
def _own_texts(sdg_file: Path = SDG_FILE, lexicon_file: Path = LEXICON_FILE) -> tuple[
        dict[int, dict[str, str]], tuple[Prototype, ...], tuple[tuple[int, str], ...]]:
    if not sdg_file.exists() or not lexicon_file.exists():
        raise MatchError(f"SDG descriptions not found at {sdg_file.parent}")
    data = yaml.load(sdg_file.read_text(encoding="utf-8"), Loader=_YamlLoader)
    names: dict[int, dict[str, str]] = {}
    protos: list[Prototype] = []
    for goal in data["goals"]:
        g = int(goal["goal"])
        names[g] = dict(goal["name"])
        for lang in ("es", "en"):
            protos.append(Prototype(g, None, lang, goal["name"][lang]))
            protos.append(Prototype(g, None, lang, goal["description"][lang]))
            protos.extend(Prototype(g, str(t["target"]), lang, t[lang]) for t in goal["targets"])
    lex = yaml.load(lexicon_file.read_text(encoding="utf-8"), Loader=_YamlLoader)["goals"]
    terms = tuple((int(g), str(term)) for g, by_lang in lex.items() for words in by_lang.values() for term in words)
    return names, tuple(protos), terms


def load_catalogue(official: Sequence[Prototype] = ()) -> SdgCatalogue:
    """The project's own descriptions and lexicon, plus any imported official target texts."""
    names, protos, terms = _own_texts()
    own_targets = tuple(p for p in protos if p.target is not None)
    return SdgCatalogue(names, protos, own_targets + tuple(official), terms)


# ------------------------------------------------------------------ pure scoring


@dataclass(frozen=True)
class TaggerParams:
    top_k: int = 3
    lexicon_weight: float = 1.5
    threshold: float = 1.9
    always_top: bool = False
    target_margin: float = 0.04
    targets_per_goal: int = 3


@dataclass(frozen=True)
class GoalCalibration:
    mean: np.ndarray  # (17,)
    std: np.ndarray  # (17,)
    source: str


def goal_similarity(doc_vecs: np.ndarray, proto_vecs: np.ndarray, proto_goals: np.ndarray, top_k: int) -> np.ndarray:
    """(n, 17): per goal, the mean cosine of the text with its `top_k` most similar prototypes."""
    sims = doc_vecs @ proto_vecs.T
    out = np.empty((doc_vecs.shape[0], N_GOALS), dtype=np.float32)
    for gi, goal in enumerate(GOALS):
        cols = sims[:, proto_goals == goal]
        k = min(top_k, cols.shape[1])
        best = -np.partition(-cols, k - 1, axis=1)[:, :k]
        out[:, gi] = best.mean(axis=1)
    return out


def goal_evidence(similarity: np.ndarray, calibration: GoalCalibration, lexicon_counts: np.ndarray,
                  params: TaggerParams) -> np.ndarray:
    z = (similarity - calibration.mean) / calibration.std
    return (z + params.lexicon_weight * np.log1p(lexicon_counts)).astype(np.float32)


def decide_goals(evidence: np.ndarray, params: TaggerParams) -> np.ndarray:
    """Boolean (n, 17): tagged goals."""
    tagged = evidence >= params.threshold
    if params.always_top and evidence.size:
        tagged[np.arange(evidence.shape[0]), evidence.argmax(axis=1)] = True
    return tagged


def evidence_to_score(evidence: np.ndarray, params: TaggerParams) -> np.ndarray:
    """0..1, 0.5 at the threshold: a readable strength for the explanation and the alignment feature."""
    return 1.0 / (1.0 + np.exp(-1.5 * (evidence - params.threshold)))


def doc_vectors(passage_vecs: np.ndarray, owner_starts: np.ndarray) -> np.ndarray:
    """One vector per document: the normalised mean of its passages (grouped, starts given)."""
    if passage_vecs.shape[0] == 0:
        return np.zeros((0, passage_vecs.shape[1] if passage_vecs.ndim == 2 else 0), dtype=np.float32)
    sums = np.add.reduceat(passage_vecs, owner_starts, axis=0)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (sums / norms).astype(np.float32)


def calibration_from(similarity: np.ndarray, source: str) -> GoalCalibration:
    std = similarity.std(axis=0)
    std[std < 1e-6] = 1e-6
    return GoalCalibration(similarity.mean(axis=0).astype(np.float32), std.astype(np.float32), source)


@dataclass
class SdgTags:
    goals: dict[int, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)
    evidence: dict[int, float] = field(default_factory=dict)

    def as_scores(self) -> dict[str, float]:
        """Codes as stored and scored: '11' for a goal, '11.2' for a target."""
        out = {str(g): round(s, 4) for g, s in self.goals.items()}
        out.update({t: round(s, 4) for t, s in self.targets.items()})
        return out


# ------------------------------------------------------------------ the tagger


def load_calibrations(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    if not path.exists():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


class SdgTagger:
    """Tags documents given their passage vectors (from the same embedder) and their text."""

    def __init__(self, embedder: Embedder, *, catalogue: SdgCatalogue | None = None,
                 params: TaggerParams | None = None, calibration: GoalCalibration | None = None,
                 chunk_size: int = 4096):
        self.embedder = embedder
        self.catalogue = catalogue or load_catalogue()
        self.params = params or self._backend_params()
        self.chunk_size = chunk_size
        self._calibration = calibration
        self._proto_vecs: np.ndarray | None = None
        self._target_vecs: np.ndarray | None = None
        self._lexicon = TermMatcher([t for _, t in self.catalogue.lexicon])
        self._lexicon_goal = np.array([g - 1 for g, _ in self.catalogue.lexicon], dtype=np.int64)
        self._proto_goals = np.array([p.goal for p in self.catalogue.prototypes])
        self._target_codes = [p.target or "" for p in self.catalogue.target_texts]

    @property
    def model_id(self) -> str:
        """Names everything tags depend on, so stored tags are reused only when nothing changed."""
        entry = load_calibrations().get(self.embedder.model_id.split("|", 1)[0], {})
        payload = json.dumps([self.catalogue.digest, [(p.target, p.language, p.text) for p in self.catalogue.target_texts],
                              self.params.__dict__, entry.get("mean"), entry.get("std")], sort_keys=True, default=str)
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:10]
        return f"{TAGGER_VERSION}:{digest}|{self.embedder.model_id}"

    def _backend_params(self) -> TaggerParams:
        """The two global parameters chosen for this backend (cross-validated on the benchmark's dev half)."""
        entry = load_calibrations().get(self.embedder.model_id.split("|", 1)[0], {})
        chosen = entry.get("params", {})
        return TaggerParams(lexicon_weight=float(chosen.get("lexicon_weight", TaggerParams.lexicon_weight)),
                            threshold=float(chosen.get("threshold", TaggerParams.threshold)))

    # -- lazy pieces

    def _prototypes(self) -> np.ndarray:
        if self._proto_vecs is None:
            self._proto_vecs = encode_queries(self.embedder, [p.text for p in self.catalogue.prototypes])
        return self._proto_vecs

    def _targets(self) -> np.ndarray:
        if self._target_vecs is None:
            own = len([p for p in self.catalogue.prototypes if p.target is not None])
            protos = self._prototypes()
            own_vecs = protos[[i for i, p in enumerate(self.catalogue.prototypes) if p.target is not None]]
            extra = [p.text for p in self.catalogue.target_texts[own:]]
            extra_vecs = encode_queries(self.embedder, extra) if extra else np.zeros((0, own_vecs.shape[1]), np.float32)
            self._target_vecs = np.vstack([own_vecs, extra_vecs]).astype(np.float32)
        return self._target_vecs

    def calibration(self) -> GoalCalibration:
        if self._calibration is None:
            base_id = self.embedder.model_id.split("|", 1)[0]
            entry = load_calibrations().get(base_id)
            if entry is not None:
                if entry.get("catalogue") != self.catalogue.digest:
                    log.warning("sdg_calibration_stale", backend=base_id)
                self._calibration = GoalCalibration(np.asarray(entry["mean"], np.float32),
                                                    np.asarray(entry["std"], np.float32), entry.get("corpus", base_id))
            else:
                # No reference corpus measured for this backend: the prototypes themselves stand in.
                log.warning("sdg_calibration_missing", backend=base_id)
                protos = self._prototypes()
                self._calibration = calibration_from(
                    goal_similarity(protos, protos, self._proto_goals, self.params.top_k), "prototypes")
        return self._calibration

    def lexicon_counts(self, docs: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, 17): per document, the most distinct lexicon terms of each goal found in one passage.

        Per passage, not per document, so that a long call does not collect terms of every goal
        just by being long: the scale stays that of the paragraph-sized texts it was tuned on.
        """
        counts = np.zeros((len(docs), N_GOALS), dtype=np.float32)
        row = np.zeros(N_GOALS, dtype=np.float32)
        for i, passages in enumerate(docs):
            for passage in passages:
                found = self._lexicon.find(passage)
                if found:
                    row[:] = 0.0
                    np.add.at(row, self._lexicon_goal[list(found)], 1.0)
                    np.maximum(counts[i], row, out=counts[i])
        return counts

    # -- tagging

    def similarity(self, doc_vecs: np.ndarray) -> np.ndarray:
        protos = self._prototypes()
        parts = [goal_similarity(doc_vecs[s:s + self.chunk_size], protos, self._proto_goals, self.params.top_k)
                 for s in range(0, doc_vecs.shape[0], self.chunk_size)]
        return np.vstack(parts) if parts else np.zeros((0, N_GOALS), np.float32)

    def evidence(self, doc_vecs: np.ndarray, docs: Sequence[Sequence[str]]) -> np.ndarray:
        return goal_evidence(self.similarity(doc_vecs), self.calibration(), self.lexicon_counts(docs), self.params)

    def tag_documents(self, doc_vecs: np.ndarray, docs: Sequence[Sequence[str]]) -> list[SdgTags]:
        """One SdgTags per document, given its vector and its passages (which feed the lexicon)."""
        if doc_vecs.shape[0] == 0:
            return []
        evidence = self.evidence(doc_vecs, docs)
        tagged = decide_goals(evidence, self.params)
        scores = evidence_to_score(evidence, self.params)
        targets = self._targets()
        target_goals = np.array([goal_of(c) for c in self._target_codes])
        out: list[SdgTags] = []
        for i in range(doc_vecs.shape[0]):
            tags = SdgTags()
            goal_idx = np.flatnonzero(tagged[i])
            if goal_idx.size:
                sims = targets @ doc_vecs[i]
                for gi in goal_idx:
                    goal = int(GOALS[gi])
                    tags.goals[goal] = float(scores[i, gi])
                    tags.evidence[goal] = float(evidence[i, gi])
                    tags.targets.update(self._name_targets(sims, target_goals == goal, float(scores[i, gi])))
            out.append(tags)
        return out

    def _name_targets(self, sims: np.ndarray, mask: np.ndarray, goal_score: float) -> dict[str, float]:
        idx = np.flatnonzero(mask)
        best_by_code: dict[str, float] = {}
        for j in idx:
            code = self._target_codes[j]
            best_by_code[code] = max(best_by_code.get(code, -1.0), float(sims[j]))
        ranked = sorted(best_by_code.items(), key=lambda kv: -kv[1])
        top = ranked[0][1]
        named: dict[str, float] = {}
        for code, sim in ranked[: self.params.targets_per_goal]:
            if top - sim > self.params.target_margin:
                break
            named[code] = goal_score * (1.0 - (top - sim) / (2 * self.params.target_margin))
        return named

    def _embed_texts(self, texts: Sequence[str]) -> tuple[np.ndarray, list[list[str]]]:
        docs = [chunk(text) or [text or " "] for text in texts]
        starts = np.cumsum([0] + [len(d) for d in docs[:-1]]).astype(np.int64)
        vecs = self.embedder.encode([p for d in docs for p in d])
        return doc_vectors(vecs, starts), docs

    def tag_texts(self, texts: Sequence[str]) -> list[SdgTags]:
        """Tags plain texts: each is chunked into passages like a call's body."""
        if not texts:
            return []
        vecs, docs = self._embed_texts(texts)
        return self.tag_documents(vecs, docs)

    def text_similarity(self, texts: Sequence[str]) -> np.ndarray:
        """Goal similarity of plain texts, as used to calibrate a backend on a reference corpus."""
        vecs, _ = self._embed_texts(texts)
        return self.similarity(vecs)


def write_calibration(tagger: SdgTagger, texts: Sequence[str], corpus: str, path: Path = CALIBRATION_FILE) -> GoalCalibration:
    """Measures a backend's per-goal similarity spread on unlabelled reference texts and stores it."""
    calibration = calibration_from(tagger.text_similarity(texts), corpus)
    data = load_calibrations(path)
    key = tagger.embedder.model_id.split("|", 1)[0]
    data[key] = {
        **data.get(key, {}),  # keeps the backend's chosen params
        "mean": [round(float(x), 6) for x in calibration.mean],
        "std": [round(float(x), 6) for x in calibration.std],
        "texts": len(texts), "corpus": corpus, "catalogue": tagger.catalogue.digest,
    }
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return calibration
