"""Crawl sources, each crawl in its own process, and report their source runs and health.

A *source* is what a person names and what health is kept for: a spider (`eu_sedia`,
`minciencias`, …) or one entry of config/sources.yaml (`idb_lab`, `caf`, …). Entries are
crawled together by the page-watch spider in one process; every other spider gets its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import structlog
from scrapy.settings import Settings as ScrapySettings
from scrapy.spiderloader import SpiderLoader
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoca.errors import ConfigError, CrawlError
from convoca.settings import Settings
from crawlers.extensions import health
from models import Source, SourceRun

log = structlog.stdlib.get_logger("convoca.crawl")

PAGE_WATCH = "page_watch"


@dataclass(frozen=True)
class SourceSpec:
    slug: str
    spider: str
    name: str


@dataclass
class CrawlResult:
    source: str
    exit_code: int
    seconds: float
    run: dict[str, object] = field(default_factory=dict)
    stderr_tail: str = ""


def spider_names() -> list[str]:
    loader = SpiderLoader(ScrapySettings({"SPIDER_MODULES": ["crawlers.spiders"]}))
    return sorted(loader.list())


def page_watch_entries(sources_file: Path) -> list[SourceSpec]:
    """The enabled entries of config/sources.yaml; an invalid file is a ConfigError."""
    from crawlers.platforms.page_watch import load_sources

    if not sources_file.exists():
        return []
    return [SourceSpec(e.slug, PAGE_WATCH, e.name) for e in load_sources(sources_file).enabled()]


def available_sources(settings: Settings | None = None) -> list[SourceSpec]:
    """Every source that `convoca crawl` runs by default. A broken sources.yaml leaves out its
    entries (logged; `convoca config check` names the errors) and keeps every other source."""
    specs = [SourceSpec(name, name, name) for name in spider_names() if name != PAGE_WATCH]
    settings = settings or Settings()
    try:
        specs += page_watch_entries(settings.sources_file)
    except ConfigError as exc:
        for issue in exc.issues:
            log.error("sources_config_invalid", file=issue.file, line=issue.line, field=issue.field, message=issue.message)
    return specs


def _child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["CONVOCA_DATABASE_URL"] = settings.database_url
    env["CONVOCA_CONFIG_DIR"] = str(settings.config_dir)
    env["CONVOCA_DOWNLOAD_DELAY"] = str(settings.download_delay)
    env["CONVOCA_RETRY_BACKOFF"] = str(settings.retry_backoff)
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


@dataclass
class _Job:
    spider: str
    sources: list[str]
    args: list[str]
    started: float = 0.0
    proc: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = None


def _jobs(chosen: list[SourceSpec], spider_args: dict[str, dict[str, str]]) -> list[_Job]:
    jobs: list[_Job] = []
    watched = [s.slug for s in chosen if s.spider == PAGE_WATCH]
    for spec in chosen:
        if spec.spider != PAGE_WATCH:
            args = [f"{k}={v}" for k, v in spider_args.get(spec.spider, {}).items()]
            jobs.append(_Job(spec.spider, [spec.slug], args))
    if watched:
        args = [f"{k}={v}" for k, v in spider_args.get(PAGE_WATCH, {}).items()] + [f"entries={','.join(watched)}"]
        jobs.append(_Job(PAGE_WATCH, watched, args))
    return jobs


def crawl_sources(
    settings: Settings,
    session_factory: Callable[[], Session],
    sources: list[str] | None = None,
    *,
    spider_args: dict[str, dict[str, str]] | None = None,
    parallel: int = 1,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[CrawlResult], None] | None = None,
    timeout: float = 3600,
) -> list[CrawlResult]:
    """Run the sources' spiders in child processes, `parallel` at a time; one failure stops nothing.

    Two crawls running at once cannot see each other's uncommitted calls, so after parallel
    crawls the calls first seen in this cycle are checked once more for cross-source duplicates.
    """
    known = {s.slug: s for s in available_sources(settings)}
    chosen_slugs = sources or list(known)
    unknown = [s for s in chosen_slugs if s not in known]
    if unknown:
        raise CrawlError(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    cycle_started = datetime.now(UTC)
    pending = _jobs([known[s] for s in chosen_slugs], spider_args or {})
    running: list[_Job] = []
    results: list[CrawlResult] = []
    env = _child_env(settings)
    while pending or running:
        while pending and len(running) < max(1, parallel):
            job = pending.pop(0)
            for slug in job.sources:
                if on_start:
                    on_start(slug)
            job.started = time.perf_counter()
            # A file, not a pipe: a chatty child would block on a full pipe nobody reads yet.
            job.log_file = tempfile.TemporaryFile()
            job.proc = subprocess.Popen([sys.executable, "-m", "crawlers.run", job.spider, *job.args], env=env,
                                        stdout=subprocess.DEVNULL, stderr=job.log_file)
            running.append(job)
        job = _wait_any(running, timeout)
        running.remove(job)
        results.extend(_collect(job, session_factory, on_done))
    if parallel > 1 and len(results) > 1:
        from crawlers.persistence import merge_late_duplicates

        with session_factory() as session:
            merged = merge_late_duplicates(session, since=cycle_started)
            session.commit()
        if merged:
            log.info("late_duplicates_merged", count=merged)
    return results


def _wait_any(running: list[_Job], timeout: float) -> _Job:
    while True:
        for job in running:
            assert job.proc is not None
            if job.proc.poll() is not None:
                return job
            if time.perf_counter() - job.started > timeout:
                job.proc.kill()
                job.proc.wait()
                return job
        time.sleep(0.1)


def _collect(job: _Job, session_factory: Callable[[], Session],
             on_done: Callable[[CrawlResult], None] | None) -> list[CrawlResult]:
    assert job.proc is not None and job.log_file is not None
    job.log_file.seek(0, os.SEEK_END)
    job.log_file.seek(max(0, job.log_file.tell() - 4000))
    tail = job.log_file.read().decode("utf-8", "replace")
    job.log_file.close()
    code = job.proc.returncode
    seconds = time.perf_counter() - job.started
    out = []
    with session_factory() as session:
        for slug in job.sources:
            result = CrawlResult(slug, code, seconds, run_summary(last_run(session, slug)), tail)
            out.append(result)
            if on_done:
                on_done(result)
    return out


def opportunity_counts(session: Session) -> tuple[int, int]:
    """(distinct opportunities, source links merged onto another source's opportunity)."""
    from sqlalchemy import func

    from models import Opportunity, OpportunityLink

    total = session.scalar(select(func.count()).select_from(Opportunity)) or 0
    links = session.scalar(select(func.count()).select_from(OpportunityLink)) or 0
    return total, links - total


@dataclass
class SourceHealth:
    source: str
    name: str
    last_run_at: object
    status: str
    seen: int
    new: int
    changed: int
    merged: int
    dropped: int
    dropped_by_reason: dict[str, int]
    errors: int
    duration_s: float | None
    healthy: bool
    reason: str | None


def source_health(session: Session) -> list[SourceHealth]:
    rows = []
    for source in session.scalars(select(Source).order_by(Source.slug)):
        run = last_run(session, source.slug)
        if run is None:
            rows.append(SourceHealth(source.slug, source.name, None, "sin ejecuciones", 0, 0, 0, 0, 0, {}, 0, None,
                                     False, "nunca se ha rastreado"))
            continue
        ok, why = health(run.items_seen, run.items_dropped)
        ok = ok and run.status == "ok"
        rows.append(SourceHealth(source.slug, source.name, run.started_at, run.status, run.items_seen, run.items_new,
                                 run.items_changed, run.items_merged, run.items_dropped, dict(run.dropped_by_reason or {}),
                                 run.errors, run.duration_s, ok, why or run.message))
    return rows
