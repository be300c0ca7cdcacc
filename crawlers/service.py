"""Crawl sources, each in its own process, and report their source runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from scrapy.spiderloader import SpiderLoader
from scrapy.settings import Settings as ScrapySettings
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoca.errors import CrawlError
from convoca.settings import Settings
from crawlers.extensions import health
from models import Source, SourceRun


@dataclass
class CrawlResult:
    source: str
    exit_code: int
    seconds: float
    run: dict[str, object] = field(default_factory=dict)
    stderr_tail: str = ""


def available_sources() -> list[str]:
    loader = SpiderLoader(ScrapySettings({"SPIDER_MODULES": ["crawlers.spiders"]}))
    return sorted(loader.list())


def _child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["CONVOCA_DATABASE_URL"] = settings.database_url
    env["CONVOCA_CONFIG_DIR"] = str(settings.config_dir)
    env["CONVOCA_DOWNLOAD_DELAY"] = str(settings.download_delay)
    env["CONVOCA_HTTP_CACHE"] = "1" if settings.http_cache else "0"
    if settings.replay_url:
        env["CONVOCA_REPLAY_URL"] = settings.replay_url
    return env


def last_run(session: Session, source: str) -> SourceRun | None:
    return session.scalars(
        select(SourceRun).join(Source).where(Source.slug == source).order_by(SourceRun.id.desc()).limit(1)
    ).first()


def run_summary(run: SourceRun | None) -> dict[str, object]:
    if run is None:
        return {}
    return {"status": run.status, "seen": run.items_seen, "new": run.items_new, "changed": run.items_changed,
            "unchanged": run.items_unchanged, "merged": run.items_merged, "dropped": run.items_dropped,
            "dropped_by_reason": run.dropped_by_reason, "errors": run.errors, "healthy": run.healthy,
            "duration_s": run.duration_s, "message": run.message}


def crawl_sources(
    settings: Settings,
    session_factory: Callable[[], Session],
    sources: list[str] | None = None,
    *,
    spider_args: dict[str, dict[str, str]] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[CrawlResult], None] | None = None,
    timeout: float = 3600,
) -> list[CrawlResult]:
    """Run each source's spider in a child process, one after another; one failure stops nothing."""
    known = available_sources()
    chosen = sources or known
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise CrawlError(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(known)}")
    results: list[CrawlResult] = []
    env = _child_env(settings)
    for source in chosen:
        if on_start:
            on_start(source)
        args = [f"{k}={v}" for k, v in (spider_args or {}).get(source, {}).items()]
        started = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-m", "crawlers.run", source, *args], env=env,
                                  capture_output=True, text=True, timeout=timeout)
            code, tail = proc.returncode, proc.stderr[-4000:]
        except subprocess.TimeoutExpired as exc:
            code, tail = 124, f"timed out after {timeout:.0f}s: {exc}"
        with session_factory() as session:
            summary = run_summary(last_run(session, source))
        result = CrawlResult(source, code, time.perf_counter() - started, summary, tail)
        results.append(result)
        if on_done:
            on_done(result)
    return results


@dataclass
class SourceHealth:
    source: str
    name: str
    last_run_at: object
    status: str
    seen: int
    new: int
    changed: int
    dropped: int
    errors: int
    healthy: bool
    reason: str | None


def source_health(session: Session) -> list[SourceHealth]:
    rows = []
    for source in session.scalars(select(Source).order_by(Source.slug)):
        run = last_run(session, source.slug)
        if run is None:
            rows.append(SourceHealth(source.slug, source.name, None, "sin ejecuciones", 0, 0, 0, 0, 0, False,
                                     "nunca se ha rastreado"))
            continue
        ok, why = health(run.items_seen, run.items_dropped)
        ok = ok and run.status == "ok"
        rows.append(SourceHealth(source.slug, source.name, run.started_at, run.status, run.items_seen, run.items_new,
                                 run.items_changed, run.items_dropped, run.errors, ok, why or run.message))
    return rows
