"""Run one spider in this process: `python -m crawlers.run SPIDER [key=value ...]`.

Each crawl gets its own process (Twisted's reactor cannot restart, and a crash in one source
must not take the others down). The exit code is 0 when every source run of the crawl
finished.
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
        print("uso: python -m crawlers.run ARAÑA [clave=valor ...]", file=sys.stderr)
        return 2
    spider, *pairs = argv
    spider_args = dict(p.split("=", 1) for p in pairs if "=" in p)
    settings = Settings()
    process = CrawlerProcess(scrapy_settings(settings), install_root_handler=False)
    configure_logging()  # after Scrapy's own set-up, which opens the root logger to every level
    crawler = process.create_crawler(spider)
    process.crawl(crawler, **spider_args)
    process.start()
    run_ids = crawler.stats.get_value("convoca/run_ids") if crawler.stats else None
    if not run_ids:
        return 1
    with session_scope(settings.database_url) as session:
        statuses = set(session.scalars(select(SourceRun.status).where(SourceRun.id.in_(list(run_ids.values())))))
    return 0 if statuses == {"ok"} else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
