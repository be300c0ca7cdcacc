"""Crawls dispatched to Scrapyd instances: the scale-out path when one machine is not enough.

Each Scrapyd host runs Convoca's spiders from the installed project (scrapyd.conf:
`[settings] convoca = crawlers.project_settings`) with its own CONVOCA_* environment, which
points at the shared PostgreSQL store. The dispatcher spreads the sources over the hosts,
waits for the jobs, and reads the outcome from the source_run rows the crawls wrote — the
same record a local crawl leaves.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import cycle
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoca.errors import CrawlError
from convoca.settings import Settings
from crawlers.service import PAGE_WATCH, CrawlResult, available_sources, run_summary
from models import Source, SourceRun

log = structlog.stdlib.get_logger("convoca.scrapyd")

PROJECT = "convoca"


class ScrapydClient:
    """The few endpoints of Scrapyd's JSON API the dispatcher needs."""

    def __init__(self, url: str, project: str = PROJECT, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.project = project
        self.timeout = timeout

    def _call(self, endpoint: str, params: list[tuple[str, str]] | None = None, post: bool = False) -> dict[str, Any]:
        query = urllib.parse.urlencode(params or [])
        if post:
            request = urllib.request.Request(f"{self.url}/{endpoint}", data=query.encode(), method="POST")
        else:
            request = urllib.request.Request(f"{self.url}/{endpoint}" + (f"?{query}" if query else ""))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise CrawlError(f"Scrapyd at {self.url} did not answer {endpoint}: {exc}") from exc
        if payload.get("status") != "ok":
            raise CrawlError(f"Scrapyd at {self.url} refused {endpoint}: {payload.get('message', payload)}")
        return payload

    def daemon_status(self) -> dict[str, Any]:
        return self._call("daemonstatus.json")

    def spiders(self) -> list[str]:
        return list(self._call("listspiders.json", [("project", self.project)])["spiders"])

    def schedule(self, spider: str, args: dict[str, str] | None = None) -> str:
        params = [("project", self.project), ("spider", spider), *sorted((args or {}).items())]
        return str(self._call("schedule.json", params, post=True)["jobid"])

    def job_states(self) -> dict[str, str]:
        """job id → pending / running / finished."""
        jobs = self._call("listjobs.json", [("project", self.project)])
        return {job["id"]: state for state in ("pending", "running", "finished") for job in jobs.get(state, [])}


@dataclass
class _Dispatched:
    client: ScrapydClient
    job_id: str
    spider: str
    sources: list[str]
    started: float


def _latest_run_since(session: Session, source: str, since: datetime) -> SourceRun | None:
    return session.scalars(
        select(SourceRun).join(Source).where(Source.slug == source, SourceRun.started_at >= since)
        .order_by(SourceRun.id.desc()).limit(1)
    ).first()


def crawl_on_scrapyd(
    settings: Settings,
    session_factory: Callable[[], Session],
    urls: list[str],
    sources: list[str] | None = None,
    *,
    spider_args: dict[str, dict[str, str]] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_done: Callable[[CrawlResult], None] | None = None,
    poll: float = 2.0,
    timeout: float = 3600,
) -> list[CrawlResult]:
    """Spread the sources over the Scrapyd hosts round-robin, wait, and report like a local crawl."""
    if not urls:
        raise CrawlError("no Scrapyd URL given")
    known = {s.slug: s for s in available_sources(settings)}
    chosen = sources or list(known)
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise CrawlError(f"unknown source(s): {', '.join(unknown)}")
    clients = [ScrapydClient(u) for u in urls]
    for client in clients:
        client.daemon_status()  # fail early, before anything is scheduled
    since = datetime.now(UTC)
    spider_args = spider_args or {}
    watched = [s for s in chosen if known[s].spider == PAGE_WATCH]
    plan = [(known[s].spider, [s], dict(spider_args.get(known[s].spider, {})))
            for s in chosen if known[s].spider != PAGE_WATCH]
    if watched:
        plan.append((PAGE_WATCH, watched, {**spider_args.get(PAGE_WATCH, {}), "entries": ",".join(watched)}))
    dispatched: list[_Dispatched] = []
    for client, (spider, slugs, args) in zip(cycle(clients), plan):
        for slug in slugs:
            if on_start:
                on_start(slug)
        job_id = client.schedule(spider, args)
        log.info("scrapyd_job_scheduled", host=client.url, spider=spider, job=job_id)
        dispatched.append(_Dispatched(client, job_id, spider, slugs, time.perf_counter()))

    results: list[CrawlResult] = []
    waiting = list(dispatched)
    while waiting:
        states: dict[str, dict[str, str]] = {c.url: c.job_states() for c in clients}
        for job in list(waiting):
            state = states[job.client.url].get(job.job_id)
            late = time.perf_counter() - job.started > timeout
            if state != "finished" and not late:
                continue
            waiting.remove(job)
            with session_factory() as session:
                for slug in job.sources:
                    run = _latest_run_since(session, slug, since)
                    ok = run is not None and run.status == "ok" and not late
                    result = CrawlResult(slug, 0 if ok else 1, time.perf_counter() - job.started, run_summary(run),
                                         f"scrapyd {job.client.url} job {job.job_id}: {state or 'unknown'}")
                    results.append(result)
                    if on_done:
                        on_done(result)
        if waiting:
            time.sleep(poll)
    return results
