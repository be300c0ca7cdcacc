"""The base of every Convoca spider: per-source counters, named page failures, polite errbacks.

A page that cannot be read (bad JSON, a missing table, a truncated body) is logged with its
reason and counted as an error of its source; the crawl goes on with the other pages.
"""

from __future__ import annotations

from typing import Any

import scrapy
import structlog
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.stats import bump

log = structlog.stdlib.get_logger("convoca.spider")


class ConvocaSpider(scrapy.Spider):
    source_name: str = ""
    # Sites that ask for gentler crawling get the configured per-domain delay times this.
    delay_factor: float = 1.0

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        super().update_settings(settings)
        if cls.delay_factor != 1.0:
            settings.set("DOWNLOAD_DELAY", settings.getfloat("DOWNLOAD_DELAY") * cls.delay_factor, priority="spider")

    def source_slugs(self) -> dict[str, str]:
        """Every source this spider crawls (slug → display name); one unless overridden."""
        return {self.name: self.source_name or self.name}

    def count(self, key: str, source: str | None = None, n: int = 1) -> None:
        bump(self.crawler, source or self.name, key, n)

    def bad_page(self, response: Response | None, reason: str, *, source: str | None = None, **data: Any) -> None:
        """A page that cannot be used: logged as an error of its source and skipped."""
        self.count("errors", source)
        self.count(f"bad_page/{reason}", source)
        log.error("page_unusable", source=source or self.name, reason=reason,
                  url=response.url if response is not None else None, **data)

    def skip_item(self, reason: str, ident: str, *, source: str | None = None) -> None:
        """A record that the source lists but Convoca does not want (not a drop: the data is fine)."""
        self.count(f"filtered/{reason}", source)
        log.debug("record_filtered", source=source or self.name, reason=reason, id=ident)

    def drop_record(self, reason: str, ident: str, *, source: str | None = None) -> None:
        """A record too broken to become an item (no id at all); counted as a drop of its source."""
        self.count(f"dropped/{reason}", source)
        self.count("dropped", source)
        log.warning("record_dropped", source=source or self.name, reason=reason, id=ident)

    def on_error(self, failure: Failure) -> None:
        """Errback of every request: an unreachable or failing page is an error of its source."""
        request = failure.request  # type: ignore[attr-defined]
        source = request.meta.get("convoca_source")
        if failure.check(HttpError) and request.meta.get("optional"):
            # A next page that does not exist (WordPress answers 404 past the last page).
            log.debug("optional_page_missing", url=request.url)
            return
        status = failure.value.response.status if failure.check(HttpError) else None
        self.count("errors", source)
        log.error("request_failed", source=source or self.name, url=request.url, status=status,
                  error=failure.getErrorMessage()[:200])
