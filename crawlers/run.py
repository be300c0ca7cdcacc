"""Run one spider in this process: `python -m crawlers.run SOURCE [key=value ...]`.

Each crawl gets its own process (Twisted's reactor cannot restart, and a crash in one source
must not take the others down). The exit code is 0 when the source run finished.
"""

from __future__ import annotations

import sys

from scrapy.crawler import CrawlerProcess
from sqlalchemy import select

from convoca.logs import configure_logging
from convoca.settings import Settings
from crawlers.settings import scrapy_settings
from models import SourceRun
from models.db import session_scope


def main(argv: list[str]) -> int:
    if not argv:
        print("uso: python -m crawlers.run FUENTE [clave=valor ...]", file=sys.stderr)
        return 2
    source, *pairs = argv
    spider_args = dict(p.split("=", 1) for p in pairs if "=" in p)
    settings = Settings()
    configure_logging()
    process = CrawlerProcess(scrapy_settings(settings), install_root_handler=False)
    crawler = process.create_crawler(source)
    process.crawl(crawler, **spider_args)
    process.start()
    run_id = crawler.stats.get_value("convoca/run_id") if crawler.stats else None
    if run_id is None:
        return 1
    with session_scope(settings.database_url) as session:
        status = session.scalar(select(SourceRun.status).where(SourceRun.id == run_id))
    return 0 if status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
