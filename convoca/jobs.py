"""The scheduled jobs, as service functions the CLI and the scheduler share.

weekly cycle: sync configs → crawl every source (each spider in its own child process, so the
long-running scheduler never reuses a Twisted reactor) → match → decide and send the digests of
the municipalities whose slot it is. The crawl is skipped when a crawl finished recently (several
municipalities share the same morning; one crawl serves them all).

daily reminders: decide and send the day's deadline reminders, and retry anything undelivered.

The scheduler stores only the job entry points' names and plain arguments (a slug), never the
settings: each run builds its settings from the environment, so no secret lands in the job table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import func, select

from convoca.cycle import sync_configs
from convoca.errors import ConvocaError, NotifyError
from convoca.settings import Settings
from models import SourceRun
from models.db import session_factory, session_scope
from notifier.send import make_sender
from notifier.service import DeliveryReport, deliver

log = structlog.stdlib.get_logger("convoca.jobs")

Say = Callable[[str], None]


@dataclass
class CycleReport:
    municipalities: list[str] | None
    crawled: bool = False
    crawl_failures: list[str] = field(default_factory=list)
    matched: bool = False
    errors: list[str] = field(default_factory=list)
    delivery: DeliveryReport | None = None


def last_crawl_finished(database_url: str) -> datetime | None:
    with session_scope(database_url) as session:
        return session.scalar(select(func.max(SourceRun.finished_at)))


def crawl_is_fresh(settings: Settings, now: datetime) -> bool:
    last = last_crawl_finished(settings.database_url)
    return last is not None and now - last < timedelta(hours=settings.crawl_max_age_hours)


def _crawl(settings: Settings, report: CycleReport, replay: bool, say: Say) -> None:
    from crawlers.service import CrawlResult, crawl_sources

    spider_args: dict[str, dict[str, str]] = {}
    server = None
    if replay:
        from crawlers.replay import RECORDINGS_DIR, ReplayServer, discover_recordings

        recordings = discover_recordings(RECORDINGS_DIR)
        spider_args = {r.source: r.spider_args for r in recordings}
        server = ReplayServer(recordings)
        settings = settings.model_copy(update={"replay_url": server.start()})
    def done(r: CrawlResult) -> None:
        say(f"    {r.source}: {r.run.get('seen', 0)} vistas, {r.run.get('new', 0)} nuevas ({r.seconds:.1f} s)")

    try:
        if settings.scrapyd_hosts and not replay:
            from crawlers.scrapyd import crawl_on_scrapyd

            results = crawl_on_scrapyd(settings, session_factory(settings.database_url), settings.scrapyd_hosts,
                                       on_done=done)
        else:
            results = crawl_sources(settings, session_factory(settings.database_url), None, spider_args=spider_args,
                                    on_done=done)
    finally:
        if server is not None:
            server.stop()
    report.crawled = True
    report.crawl_failures = [r.source for r in results if r.exit_code != 0]
    for r in results:
        if r.exit_code != 0:
            log.error("cycle_crawl_failed", source=r.source, exit_code=r.exit_code, stderr_tail=r.stderr_tail[-500:])


def run_cycle(settings: Settings, *, municipalities: list[str] | None = None, crawl: bool | None = None,
              replay: bool = False, now: datetime | None = None, say: Say = lambda _m: None) -> CycleReport:
    """One weekly cycle. `crawl=None` crawls only when the last crawl is older than the setting."""
    from matcher.service import run_matching

    report = CycleReport(municipalities)
    started = now or datetime.now(UTC)
    log.info("cycle_started", municipalities=municipalities)
    with session_scope(settings.database_url) as session:
        _, issues = sync_configs(session, settings)
    report.errors += [f"configuración: {i}" for i in issues]

    if crawl is None:
        crawl = not crawl_is_fresh(settings, started)
    if crawl:
        say("Rastreando las fuentes…")
        try:
            _crawl(settings, report, replay, say)
        except ConvocaError as exc:
            log.error("cycle_crawl_error", error=str(exc))
            report.errors.append(f"rastreo: {exc}")
    else:
        say("Rastreo reciente: se omite.")
        log.info("cycle_crawl_skipped", max_age_hours=settings.crawl_max_age_hours)

    say("Calculando coincidencias…")
    try:
        with session_scope(settings.database_url) as session:
            run_matching(session, settings)
        report.matched = True
    except ConvocaError as exc:
        # Digests still go out on the last good matches; the failure is reported.
        log.error("cycle_match_error", error=str(exc))
        report.errors.append(f"coincidencias: {exc}")

    say("Enviando boletines…")
    with session_factory(settings.database_url)() as session:
        report.delivery = deliver(session, settings, make_sender(settings), kinds=("digest",),
                                  now=now, only=municipalities)
    report.errors += report.delivery.errors
    if report.crawled:
        _alert_unhealthy_sources(settings, report, now)
    log.info("cycle_done", municipalities=municipalities, crawled=report.crawled, matched=report.matched,
             sent=report.delivery.count("sent"), failed=report.delivery.count("failed"),
             errors=len(report.errors))
    return report


def _alert_unhealthy_sources(settings: Settings, report: CycleReport, now: datetime | None) -> None:
    """After a crawl, the operator hears of unhealthy sources (at most once a day, exactly once)."""
    from sqlalchemy import select

    from models import Municipality

    with session_factory(settings.database_url)() as session:
        metropolitan = list(session.scalars(select(Municipality.slug).where(Municipality.is_metropolitan.is_(True))))
        if not metropolitan:
            log.warning("health_alert_skipped", reason="no metropolitan entity configured")
            return
        alert = deliver(session, settings, make_sender(settings), kinds=("health",), now=now, only=metropolitan)
    report.errors += alert.errors
    if alert.decided:
        log.warning("sources_unhealthy_alerted", sent=alert.count("sent"), failed=alert.count("failed"))


def run_reminders(settings: Settings, *, now: datetime | None = None) -> DeliveryReport:
    """The day's deadline reminders for every municipality, plus a retry of anything undelivered."""
    with session_scope(settings.database_url) as session:
        sync_configs(session, settings)
    with session_factory(settings.database_url)() as session:
        report = deliver(session, settings, make_sender(settings), kinds=("reminder",), now=now)
    log.info("reminders_done", sent=report.count("sent"), failed=report.count("failed"),
             rejected=report.count("rejected"), deferred=report.count("deferred"))
    return report


# ------------------------------------------------------------------ scheduler entry points

def weekly_cycle(municipality: str) -> None:
    report = run_cycle(Settings(), municipalities=[municipality])
    delivery = report.delivery
    if report.errors or (delivery is not None and not delivery.ok):
        raise NotifyError(f"weekly cycle of {municipality} finished with problems: {report.errors or 'envíos fallidos'}")


def daily_reminders() -> None:
    report = run_reminders(Settings())
    if not report.ok:
        raise NotifyError("daily reminders finished with failed sends (see `convoca digest --status`)")
