"""`convoca demo`: one real weekly cycle on the embedded default.

A fresh SQLite database, the project's recorded responses served by a local replay server,
every source crawled by the real Scrapy engine in its own process, the real embedding model,
and the digests written to the outbox folder.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from convoca.cycle import RankedRow, ranked_matches, sync_configs
from convoca.errors import ConfigIssue
from convoca.settings import Settings
from crawlers.replay import RECORDINGS_DIR, ReplayServer, discover_recordings
from crawlers.service import CrawlResult, available_sources, crawl_sources, opportunity_counts
from matcher.service import MatchSummary, run_matching
from models.db import session_factory, session_scope
from models.migrate import upgrade
from notifier.send import OutboxSender
from notifier.service import Delivery, deliver
from web.accounts import create_demo_accounts

DEMO_DIR = Path(".convoca-demo")
DEMO_DOWNLOAD_DELAY = 0.1


@dataclass
class DemoReport:
    database_url: str
    outbox: Path
    config_issues: list[ConfigIssue] = field(default_factory=list)
    crawls: list[CrawlResult] = field(default_factory=list)
    matching: MatchSummary | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    ranked: list[RankedRow] = field(default_factory=list)
    web_accounts: list[tuple[str, str]] = field(default_factory=list)  # (username, municipality slug)
    web_password: str = ""
    opportunities: int = 0
    merged_links: int = 0
    seconds: float = 0.0


def run_demo(settings: Settings, *, workdir: Path = DEMO_DIR, say: Callable[[str], None] = print) -> DemoReport:
    started = time.perf_counter()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    database_url = f"sqlite:///{(workdir / 'convoca.db').resolve()}"
    outbox = Path(settings.outbox_dir).resolve()
    if outbox.exists():
        for old in outbox.glob("*.eml"):
            old.unlink()
    report = DemoReport(database_url, outbox)

    say("1/5 Creando la base de datos de demostración…")
    upgrade(database_url)
    with session_scope(database_url) as session:
        _, report.config_issues = sync_configs(session, settings)

    say("2/5 Rastreando las fuentes grabadas con Scrapy…")
    recordings = discover_recordings(RECORDINGS_DIR)
    spider_args = {r.source: r.spider_args for r in recordings}
    sources = [s.slug for s in available_sources(settings) if s.spider in spider_args]
    with ReplayServer(recordings) as server:
        # The replay server is local: no need for the one-second courtesy delay of real sites.
        crawl_settings = settings.model_copy(update={"database_url": database_url, "replay_url": server.url,
                                                     "download_delay": DEMO_DOWNLOAD_DELAY})
        report.crawls = crawl_sources(
            crawl_settings, session_factory(database_url), sources, spider_args=spider_args, parallel=2,
            on_done=lambda r: say(f"    {r.source}: {r.run.get('seen', 0)} vistas, {r.run.get('new', 0)} nuevas, "
                                  f"{r.run.get('merged', 0)} fusionadas con otra fuente, "
                                  f"{r.run.get('dropped', 0)} descartadas ({r.seconds:.1f} s)"),
        )
    with session_scope(database_url) as session:
        report.opportunities, report.merged_links = opportunity_counts(session)
    say(f"    {report.opportunities} convocatorias distintas; {report.merged_links} publicaciones "
        "fusionadas con la misma convocatoria de otra fuente")

    say("3/5 Calculando coincidencias con el modelo de embeddings…")
    with session_scope(database_url) as session:
        report.matching = run_matching(session, settings.model_copy(update={"database_url": database_url}))

    say("4/5 Escribiendo los boletines en la bandeja de salida…")
    with session_factory(database_url)() as session:
        report.deliveries = deliver(session, settings, OutboxSender(outbox)).deliveries

    say("5/5 Listo.")
    report.web_password = secrets.token_urlsafe(9)
    with session_scope(database_url) as session:
        report.ranked = ranked_matches(session)
        report.web_accounts = create_demo_accounts(session, report.web_password)
    report.seconds = time.perf_counter() - started
    return report
