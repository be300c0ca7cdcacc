"""Item pipelines, in order: normalise → classify → validate → dedupe → persist.

Each stage is small and testable alone. A rejected item raises `DroppedCall` with a named
reason, counted in the crawl stats as `convoca/dropped/<reason>`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawlers.classify import classify
from crawlers.fx import load_rates
from crawlers.items import CallItem, Opportunity
from crawlers.parsing.dates import parse_datetime
from crawlers.parsing.html import html_to_text, summarise
from crawlers.parsing.language import detect_language
from crawlers.parsing.money import parse_amount, parse_amounts
from models.db import session_factory

log = structlog.stdlib.get_logger("convoca.pipelines")

_STATUS = {"forthcoming": "forthcoming", "open": "open", "closed": "closed", "abierta": "open",
           "cerrada": "closed", "finalizada": "closed", "posted": "open", "forecasted": "forthcoming",
           "próxima": "forthcoming", "proxima": "forthcoming", "vigente": "open", "active": "open"}


class DroppedCall(DropItem):
    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


def _count_drop(crawler: Crawler | None, reason: str) -> None:
    if crawler is not None and crawler.stats is not None:
        crawler.stats.inc_value(f"convoca/dropped/{reason}")
        crawler.stats.inc_value("convoca/dropped")


class _Stage:
    def __init__(self, crawler: Crawler | None = None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def drop(self, reason: str, detail: str = "") -> DroppedCall:
        _count_drop(self.crawler, reason)
        return DroppedCall(reason, detail)


def normalise_call(item: CallItem, *, fx_path: Path | None, now: datetime | None = None) -> Opportunity:
    """Pure normalisation of one CallItem. Raises ValueError with a reason on unusable input."""
    now = now or datetime.now(UTC)
    description = html_to_text(item.description)
    title = html_to_text(item.title) or ""
    deadlines = sorted({d for d in (parse_datetime(x) for x in item.deadlines) if d is not None})
    next_deadline = next((d for d in deadlines if d >= now), deadlines[-1] if deadlines else None)
    currency = item.currency.upper() if item.currency else None
    low = parse_amount(item.amount_min, currency)
    high = parse_amount(item.amount_max, currency)
    if low is None and high is None and item.amount_text:
        found = parse_amounts(item.amount_text, currency)
        if found:
            low, high = (found[0], found[-1]) if len(found) > 1 else (None, found[0])
    currency = currency or (high.currency if high else None) or (low.currency if low else None)
    amount_min = low.amount if low else None
    amount_max = high.amount if high else None
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        amount_min, amount_max = amount_max, amount_min
    amount_cop = None
    if fx_path is not None and currency and (amount_max or amount_min):
        amount_cop = load_rates(fx_path).to_cop(amount_max or amount_min, currency, now.date())
    status = _STATUS.get((item.status or "").strip().lower())
    if status is None and next_deadline is not None:
        status = "closed" if next_deadline < now else "open"
    language = item.language if item.language in ("es", "en", "fr", "pt") else None
    language = language or detect_language(f"{title}. {description or ''}")
    return Opportunity(
        source=item.source,
        source_id=str(item.source_id).strip(),
        url=item.url.strip(),
        title=title,
        summary=summarise(html_to_text(item.summary) or description),
        description=description,
        language=language,
        funder=html_to_text(item.funder),
        cooperation_type=None,
        status=status,
        opens_at=parse_datetime(item.opens_at),
        deadline=next_deadline,
        deadlines=deadlines,
        amount_min=amount_min,
        amount_max=amount_max,
        currency=currency,
        amount_cop=amount_cop,
        eligible_countries=item.eligible_countries,
        eligible_applicants=None,
        cofinancing_required=item.cofinancing_required,
        topics=[t for t in (html_to_text(t) for t in item.topics) if t],
        raw={**item.raw, "_hints": {"cooperation_type": item.cooperation_type,
                                    "eligible_applicants": item.eligible_applicants,
                                    "eligibility_text": item.eligibility_text}},
    )


class NormalisePipeline(_Stage):
    def __init__(self, crawler: Crawler | None = None):
        super().__init__(crawler)
        fx = crawler.settings.get("CONVOCA_FX_RATES") if crawler else None
        self.fx_path = Path(fx) if fx else None

    def process_item(self, item: Any) -> Opportunity:
        if not isinstance(item, CallItem):
            raise self.drop("not_a_call", type(item).__name__)
        if not item.title or not str(item.title).strip():
            raise self.drop("missing_title", item.source_id or item.url)
        try:
            return normalise_call(item, fx_path=self.fx_path)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise self.drop("invalid_field", f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None


class ClassifyPipeline(_Stage):
    def process_item(self, item: Opportunity) -> Opportunity:
        return classify(item)


class ValidatePipeline(_Stage):
    def process_item(self, item: Opportunity) -> Opportunity:
        if not item.source_id:
            raise self.drop("missing_source_id", item.url)
        if not item.url.startswith(("http://", "https://")):
            raise self.drop("bad_url", item.url)
        if len(item.title) < 4:
            raise self.drop("title_too_short", item.title)
        if item.amount_max is not None and item.amount_max < 0:
            raise self.drop("negative_amount", str(item.amount_max))
        if item.opens_at and item.deadline and item.deadline < item.opens_at and len(item.deadlines) == 1:
            raise self.drop("deadline_before_opening", f"{item.opens_at} > {item.deadline}")
        if item.deadline and item.deadline.year > date.today().year + 10:
            raise self.drop("implausible_deadline", item.deadline.isoformat())
        return item


def _richness(item: Opportunity) -> int:
    return sum(1 for v in item.model_dump(exclude={"raw"}).values() if v not in (None, [], ""))


class DedupePipeline(_Stage):
    """Within one run, the same (source, source_id) passes once, unless a richer copy follows."""

    def __init__(self, crawler: Crawler | None = None):
        super().__init__(crawler)
        self.seen: dict[tuple[str, str], int] = {}

    def process_item(self, item: Opportunity) -> Opportunity:
        key = (item.source, item.source_id)
        richness = _richness(item)
        if key in self.seen and self.seen[key] >= richness:
            if self.crawler is not None and self.crawler.stats is not None:
                self.crawler.stats.inc_value("convoca/duplicates_in_run")
            raise DropItem(f"duplicate_in_run: {item.source_id}")
        self.seen[key] = richness
        return item


class PersistPipeline(_Stage):
    """Upserts into the database; commits in batches so ingest keeps pace with the crawl."""

    BATCH = 200

    def __init__(self, crawler: Crawler | None = None):
        super().__init__(crawler)
        assert crawler is not None
        self.database_url = crawler.settings.get("CONVOCA_DATABASE_URL")
        self.session = None
        self.pending = 0

    def open_spider(self, spider: Any = None) -> None:
        self.session = session_factory(self.database_url)()

    def close_spider(self, spider: Any = None) -> None:
        if self.session is not None:
            self.session.commit()
            self.session.close()

    def process_item(self, item: Opportunity) -> Opportunity:
        from crawlers.persistence import upsert_opportunity

        assert self.session is not None and self.crawler is not None and self.crawler.stats is not None
        run_id = self.crawler.stats.get_value("convoca/run_id")
        try:
            with self.session.begin_nested():  # one bad row rolls back alone, not the batch
                result = upsert_opportunity(self.session, item, run_id=run_id)
        except Exception as exc:
            log.error("persist_failed", source=item.source, source_id=item.source_id, error=str(exc))
            raise self.drop("persist_error", str(exc)[:200]) from exc
        self.crawler.stats.inc_value(f"convoca/{result.outcome}")
        self.pending += 1
        if self.pending >= self.BATCH:
            self.session.commit()
            self.pending = 0
        return item
