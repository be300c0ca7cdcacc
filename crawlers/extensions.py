"""Records every crawl as source_run rows: items seen, new, changed, merged, dropped by reason,
errors, duration, and whether the source is healthy.

A spider crawls one source (its name) or, like the page-watch spider, several: it lists them
in `source_slugs()` and the recorder writes one run per source from the per-source counters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from scrapy import signals
from scrapy.crawler import Crawler
from sqlalchemy import select

from crawlers.stats import per_source
from models import Source, SourceRun
from models.db import writer_session_factory

log = structlog.stdlib.get_logger("convoca.source_run")

# A source is unhealthy when it yields nothing or drops more than this share of its items.
MAX_DROP_RATIO = 0.20


def health(items_seen: int, items_dropped: int) -> tuple[bool, str | None]:
    if items_seen == 0:
        return False, "ninguna convocatoria en esta ejecución"
    ratio = items_dropped / items_seen
    if ratio > MAX_DROP_RATIO:
        return False, f"{ratio:.0%} de los elementos descartados"
    return True, None


def spider_sources(spider: Any) -> dict[str, str]:
    """slug → display name of every source a spider crawls."""
    slugs = getattr(spider, "source_slugs", None)
    if callable(slugs):
        return dict(slugs())
    return {spider.name: getattr(spider, "source_name", spider.name)}


class SourceRunRecorder:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.database_url = crawler.settings.get("CONVOCA_DATABASE_URL")
        self.run_ids: dict[str, int] = {}
        self.started = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceRunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        with writer_session_factory(self.database_url).begin() as session:
            for slug, name in spider_sources(spider).items():
                source = session.scalars(select(Source).where(Source.slug == slug)).first()
                if source is None:
                    source = Source(slug=slug, name=name)
                    session.add(source)
                    session.flush()
                elif source.name != name:
                    source.name = name
                run = SourceRun(source_id=source.id, started_at=self.started, status="running")
                session.add(run)
                session.flush()
                self.run_ids[slug] = run.id
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("convoca/run_ids", dict(self.run_ids))
        log.info("source_run_started", spider=spider.name, runs=self.run_ids)

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        single = len(self.run_ids) == 1
        finished = datetime.now(UTC)
        with writer_session_factory(self.database_url).begin() as session:
            for slug, run_id in self.run_ids.items():
                run = session.get(SourceRun, run_id)
                if run is None:
                    continue
                counts = per_source(stats, slug)
                new, changed = counts.get("new", 0), counts.get("changed", 0)
                unchanged, merged = counts.get("unchanged", 0), counts.get("merged", 0)
                dropped = counts.get("dropped", 0)
                by_reason = {k.removeprefix("dropped/"): v for k, v in counts.items() if k.startswith("dropped/")}
                seen = new + changed + unchanged + merged + dropped
                # One source per crawl: every error logged belongs to it. Several: only those
                # the spider attributed to a source.
                errors = stats.get("log_count/ERROR", 0) if single else counts.get("errors", 0)
                healthy, why = health(seen, dropped)
                status = "ok" if reason == "finished" else "failed"
                run.finished_at = finished
                run.status = status
                run.items_seen, run.items_new, run.items_changed = seen, new, changed
                run.items_unchanged, run.items_merged, run.items_dropped = unchanged, merged, dropped
                run.dropped_by_reason = by_reason
                run.errors = errors
                run.duration_s = (finished - self.started).total_seconds()
                run.healthy = healthy and status == "ok"
                run.message = why if status == "ok" else f"terminó por: {reason}"
                log.info("source_run_finished", source=slug, run_id=run_id, status=status, seen=seen, new=new,
                         changed=changed, merged=merged, dropped=dropped, errors=errors, healthy=run.healthy)
