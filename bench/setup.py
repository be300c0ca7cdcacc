"""Benchmark fixtures: a migrated SQLite database filled with synthetic calls and the shipped configs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bench.corpus import SyntheticCall
from convoca.cycle import sync_configs
from convoca.settings import Settings
from matcher.embedding import _cache_key, text_hash
from matcher.text import RECIPE, passages
from models import EmbeddingCache, Opportunity
from models.db import session_factory
from models.migrate import upgrade


def database(folder: Path, name: str = "bench.db") -> tuple[Settings, Session]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    upgrade(url)
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    session = session_factory(url)()
    sync_configs(session, settings)
    session.commit()
    return settings, session


def add_calls(session: Session, calls: list[SyntheticCall]) -> None:
    """Bulk insert, as the crawl pipeline would have left them (normalised, open)."""
    now = datetime.now(UTC)
    rows = [{
        "source": "bench", "source_id": c.source_id, "url": f"https://bench.invalid/{c.source_id}",
        "title": c.title, "description": c.description, "summary": None, "language": "en", "funder": "Bench",
        "cooperation_type": None, "status": "open", "deadline": c.deadline, "deadlines": [c.deadline.isoformat()],
        "topics": [], "raw": {}, "eligible_countries": None, "eligible_applicants": None,
        "content_hash": hashlib.sha256((c.title + c.description).encode()).hexdigest(),
        "first_seen_at": now, "last_seen_at": now, "last_changed_at": now,
    } for c in calls]
    for start in range(0, len(rows), 5000):
        session.execute(insert(Opportunity), rows[start:start + 5000])
    session.commit()


def call_passages(calls: list[SyntheticCall]) -> list[str]:
    return [p for c in calls for p in passages(c.title, c.description)]


def prefill_cache(session: Session, model_id: str, texts: list[str], dim: int, seed: int = 0,
                  anchors: np.ndarray | None = None, anchored_share: float = 0.0) -> None:
    """Synthetic unit vectors stand in for embeddings.

    Pure noise matches nothing, so a run would store no match at all; with `anchors` (real
    profile vectors) a share of the passages lie close to one profile each, so the run stores
    and explains matches as a real corpus makes it do.
    """
    rng = np.random.default_rng(seed)
    cache_id = _cache_key(model_id, RECIPE)
    now = datetime.now(UTC)
    unique = list(dict.fromkeys(texts))
    for start in range(0, len(unique), 5000):
        chunk = unique[start:start + 5000]
        vecs = rng.standard_normal((len(chunk), dim)).astype("<f4")
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        if anchors is not None and anchored_share > 0:
            near = rng.random(len(chunk)) < anchored_share
            picks = anchors[rng.integers(0, len(anchors), int(near.sum()))]
            vecs[near] = 0.75 * picks + 0.66 * vecs[near]
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        session.execute(insert(EmbeddingCache), [
            {"model_id": cache_id, "text_hash": text_hash(t), "dim": dim, "vector": v.tobytes(), "created_at": now}
            for t, v in zip(chunk, vecs)])
    session.commit()
