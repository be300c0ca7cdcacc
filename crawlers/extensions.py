"""Records every crawl as a source_run row: items seen, new, changed, dropped by reason,
errors, duration, and whether the source is healthy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from scrapy import signals
from scrapy.crawler import Crawler
from sqlalchemy import select

from models import Source, SourceRun
from models.db import session_scope

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


class SourceRunRecorder:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.database_url = crawler.settings.get("CONVOCA_DATABASE_URL")
        self.run_id: int | None = None
        self.started = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SourceRunRecorder:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        with session_scope(self.database_url) as session:
            source = session.scalars(select(Source).where(Source.slug == spider.name)).first()
            if source is None:
                source = Source(slug=spider.name, name=getattr(spider, "source_name", spider.name))
                session.add(source)
                session.flush()
            run = SourceRun(source_id=source.id, started_at=self.started, status="running")
            session.add(run)
            session.flush()
            self.run_id = run.id
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("convoca/run_id", self.run_id)
        log.info("source_run_started", source=spider.name, run_id=self.run_id)

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        new, changed = stats.get("convoca/new", 0), stats.get("convoca/changed", 0)
        unchanged, merged = stats.get("convoca/unchanged", 0), stats.get("convoca/merged", 0)
        dropped = stats.get("convoca/dropped", 0)
        by_reason = {k.removeprefix("convoca/dropped/"): v for k, v in stats.items()
                     if k.startswith("convoca/dropped/")}
        seen = new + changed + unchanged + merged + dropped
        errors = stats.get("log_count/ERROR", 0)
        finished = datetime.now(UTC)
        healthy, why = health(seen, dropped)
        status = "ok" if reason == "finished" else "failed"
        message = why if status == "ok" else f"terminó por: {reason}"
        with session_scope(self.database_url) as session:
            run = session.get(SourceRun, self.run_id)
            if run is None:
                return
            run.finished_at = finished
            run.status = status
            run.items_seen, run.items_new, run.items_changed = seen, new, changed
            run.items_unchanged, run.items_merged, run.items_dropped = unchanged, merged, dropped
            run.dropped_by_reason = by_reason
            run.errors = errors
            run.duration_s = (finished - self.started).total_seconds()
            run.healthy = healthy and status == "ok"
            run.message = message
        log.info("source_run_finished", source=spider.name, run_id=self.run_id, status=status,
                 seen=seen, new=new, changed=changed, dropped=dropped, errors=errors, healthy=healthy)
