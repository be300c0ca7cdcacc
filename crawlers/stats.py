"""Crawl counters, kept per source so that one crawl can feed several source runs.

Every counter is written twice: `convoca/<key>` for the whole crawl (Scrapy's stats dump,
the benchmark) and `convoca/src/<source>/<key>` for the source run of that source (the
page-watch spider crawls many sources in one process).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

PREFIX = "convoca/src/"


def bump(crawler: Crawler | None, source: str, key: str, count: int = 1) -> None:
    if crawler is None or crawler.stats is None:
        return
    crawler.stats.inc_value(f"convoca/{key}", count)
    crawler.stats.inc_value(f"{PREFIX}{source}/{key}", count)


def per_source(stats: dict[str, Any], source: str) -> dict[str, Any]:
    """The counters of one source, keyed without their prefix ('new', 'dropped/bad_url', …)."""
    prefix = f"{PREFIX}{source}/"
    return {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}
