"""Short log lines for dropped items: the reason and the id, never the whole scraped record."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


class ConvocaLogFormatter(LogFormatter):
    def scraped(self, item: Any, response: Any, spider: Any = None) -> LogFormatterResult:
        ident = getattr(item, "source_id", None) or type(item).__name__
        return {"level": logging.DEBUG, "msg": "item kept: %(ident)s", "args": {"ident": ident}}

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> LogFormatterResult:
        ident = getattr(item, "source_id", None) or getattr(item, "url", None) or type(item).__name__
        reason = str(exception).split(":", 1)[0]
        level = logging.DEBUG if reason == "duplicate_in_run" else logging.WARNING
        return {"level": level, "msg": "item dropped: %(reason)s (%(ident)s)",
                "args": {"reason": str(exception)[:300], "ident": ident}}
