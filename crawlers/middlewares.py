"""Retries with exponential backoff, honouring the server's Retry-After.

Scrapy's RetryMiddleware re-queues a failed request at once; a server that answers 429 or
503 under load deserves a pause first. The pause is asynchronous: other requests go on.
"""

from __future__ import annotations

from typing import Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater


def backoff_delay(attempt: int, base: float, cap: float, retry_after: str | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, …): base·2^(attempt-1), capped;
    a numeric Retry-After wins when larger (still capped)."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    if retry_after:
        try:
            delay = max(delay, min(cap, float(retry_after)))
        except ValueError:
            pass  # an HTTP date; the exponential delay stands
    return delay


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: Any):
        super().__init__(settings)
        self.base = settings.getfloat("CONVOCA_RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("CONVOCA_RETRY_BACKOFF_MAX", 60.0)

    async def _pause(self, retry: Request, retry_after: str | None = None) -> None:
        delay = backoff_delay(int(retry.meta.get("retry_times", 1)), self.base, self.cap, retry_after)
        if delay > 0:
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))  # type: ignore[arg-type]

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            header = response.headers.get(b"Retry-After")
            await self._pause(result, header.decode("latin-1") if header else None)
        return result

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Request | Response | None:  # type: ignore[override]
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._pause(result)
        return result
