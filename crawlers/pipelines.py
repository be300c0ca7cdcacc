"""Item pipelines, in order: normalise → classify → validate → dedupe → persist.

Each stage is small and testable alone. A rejected item raises `DroppedCall` with a named
reason, counted per source as `dropped/<reason>` (crawlers/stats.py) and recorded in the
source run.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import structlog
from pydantic import ValidationError
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.internet import task

from crawlers.classify import classify
from crawlers.dedupe import find_duplicate, is_known
from crawlers.fx import load_rates
from crawlers.items import CallItem, Opportunity
from crawlers.parsing.dates import next_deadline, parse_datetime
from crawlers.parsing.html import html_to_text, summarise
from crawlers.parsing.language import SUPPORTED, detect_language
from crawlers.parsing.money import parse_amount, parse_amounts
from crawlers.stats import bump
from models.db import writer_session_factory

log = structlog.stdlib.get_logger("convoca.pipelines")

_STATUS = {"forthcoming": "forthcoming", "open": "open", "closed": "closed", "abierta": "open",
           "cerrada": "closed", "finalizada": "closed", "posted": "open", "forecasted": "forthcoming",
           "próxima": "forthcoming", "proxima": "forthcoming", "vigente": "open", "active": "open",
           "archived": "closed", "published": "open", "publicado": "open", "abierto": "open",
           "cerrado": "closed", "en evaluación": "closed", "adjudicado": "closed", "cancelled": "closed"}
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class DroppedCall(DropItem):
    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)


class _Stage:
    def __init__(self, crawler: Crawler | None = None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    def drop(self, source: str, reason: str, detail: str = "") -> DroppedCall:
        bump(self.crawler, source, f"dropped/{reason}")
        bump(self.crawler, source, "dropped")
        return DroppedCall(reason, detail)


def _countries(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    codes = [v.strip().upper() for v in values if v and v.strip()]
    if "*" in codes:
        return ["*"]
    known = [c for c in dict.fromkeys(codes) if _COUNTRY.match(c)]
    return known or None


def normalise_call(item: CallItem, *, fx_path: Path | None, now: datetime | None = None) -> Opportunity:
    """Pure normalisation of one CallItem. Raises pydantic's ValidationError on unusable input."""
    now = now or datetime.now(UTC)
    description = html_to_text(item.description)
    title = " ".join((html_to_text(item.title) or "").split())
    # Every deadline is kept; the next one still ahead is the call's deadline.
    deadlines = sorted({d for d in (parse_datetime(x) for x in item.deadlines) if d is not None})
    deadline = next_deadline(deadlines, now)
    currency = item.currency.strip().upper() if item.currency else None
    low = parse_amount(item.amount_min, currency)
    high = parse_amount(item.amount_max, currency)
    if low is None and high is None and item.amount_text:
        found = parse_amounts(item.amount_text, currency, require_marker=True)
        if found:
            low, high = (found[0], found[-1]) if len(found) > 1 else (None, found[0])
    currency = currency or (high.currency if high else None) or (low.currency if low else None)
    # "$0" is how several portals write "not stated"; a negative amount is left for validation.
    amount_min = low.amount if low and low.amount != 0 else None
    amount_max = high.amount if high and high.amount != 0 else None
    if amount_min is None and amount_max is None:
        currency = None  # a currency without an amount says nothing
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        amount_min, amount_max = amount_max, amount_min
    amount_cop = None
    if fx_path is not None and currency and (amount_max or amount_min):
        amount_cop = load_rates(fx_path).to_cop(amount_max or amount_min, currency, now.date())
    status = _STATUS.get((item.status or "").strip().lower())
    if status in (None, "open", "forthcoming") and deadline is not None and deadline < now:
        status = "closed"  # a source that still says "open" after the last deadline is stale
    opens_at = parse_datetime(item.opens_at)
    if status is None and deadline is not None:
        status = "forthcoming" if opens_at is not None and opens_at > now else "open"
    language = item.language.strip().lower()[:2] if item.language else None
    if language not in SUPPORTED:
        language = detect_language(f"{title}. {description or ''}")
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
        opens_at=opens_at,
        deadline=deadline,
        deadlines=deadlines,
        amount_min=amount_min,
        amount_max=amount_max,
        currency=currency,
        amount_cop=amount_cop,
        eligible_countries=_countries(item.eligible_countries),
        eligible_applicants=None,
        cofinancing_required=item.cofinancing_required,
        topics=list(dict.fromkeys(t for t in (html_to_text(t) for t in item.topics) if t)),
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
            raise self.drop(getattr(item, "source", "unknown"), "not_a_call", type(item).__name__)
        if not item.source_id or not str(item.source_id).strip():
            raise self.drop(item.source, "missing_source_id", item.url)
        if not item.title or not str(item.title).strip():
            raise self.drop(item.source, "missing_title", str(item.source_id))
        try:
            return normalise_call(item, fx_path=self.fx_path)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise self.drop(item.source, "invalid_field",
                            f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
        except (ValueError, TypeError, OverflowError) as exc:  # a value no parser could read
            raise self.drop(item.source, "unparseable_value", str(exc)[:200]) from None


class ClassifyPipeline(_Stage):
    def process_item(self, item: Opportunity) -> Opportunity:
        return classify(item)


def validation_problem(item: Opportunity, *, today: date | None = None) -> tuple[str, str] | None:
    """The named reason a normalised call cannot be kept, or None."""
    today = today or date.today()
    if not item.url.startswith(("http://", "https://")):
        return "bad_url", item.url
    if len(item.title) < 4:
        return "title_too_short", item.title
    if item.amount_max is not None and item.amount_max < 0:
        return "negative_amount", str(item.amount_max)
    if (item.amount_min is not None or item.amount_max is not None) and not item.currency:
        return "amount_without_currency", str(item.amount_max or item.amount_min)
    if item.opens_at and item.deadline and item.deadline < item.opens_at and len(item.deadlines) == 1:
        return "deadline_before_opening", f"{item.opens_at} > {item.deadline}"
    if item.deadline and item.deadline.year > today.year + 10:
        return "implausible_deadline", item.deadline.isoformat()
    if item.deadline and item.deadline.year < 2000:
        return "implausible_deadline", item.deadline.isoformat()
    return None


class ValidatePipeline(_Stage):
    def process_item(self, item: Opportunity) -> Opportunity:
        problem = validation_problem(item)
        if problem is not None:
            raise self.drop(item.source, *problem)
        return item


def _richness(item: Opportunity) -> int:
    return sum(1 for v in item.model_dump(exclude={"raw"}).values() if v not in (None, [], ""))


# One database session per crawl, shared by the dedupe and persist stages so that the dedupe
# search sees the rows persisted earlier in the same run, committed or not.
_SESSIONS: WeakKeyDictionary[Crawler, Session] = WeakKeyDictionary()


def crawl_session(crawler: Crawler) -> Session:
    session = _SESSIONS.get(crawler)
    if session is None:
        session = writer_session_factory(crawler.settings.get("CONVOCA_DATABASE_URL"))()
        _SESSIONS[crawler] = session
    return session


# duplicate_how of a call the dedupe stage found to be new to its source and to every other.
NEW_CALL = "none"


class DedupePipeline(_Stage):
    """Within one run, the same (source, source_id) passes once, unless a richer copy follows.
    A call new to its source is looked up among the other sources' calls (crawlers/dedupe.py)."""

    def __init__(self, crawler: Crawler | None = None):
        super().__init__(crawler)
        self.seen: dict[tuple[str, str], int] = {}

    def process_item(self, item: Opportunity) -> Opportunity:
        key = (item.source, item.source_id)
        richness = _richness(item)
        if key in self.seen and self.seen[key] >= richness:
            bump(self.crawler, item.source, "duplicates_in_run")
            raise DropItem(f"duplicate_in_run: {item.source_id}")
        first_time = key not in self.seen
        self.seen[key] = richness
        if first_time and self.crawler is not None:
            session = crawl_session(self.crawler)
            if not is_known(session, item.source, item.source_id):
                found = find_duplicate(session, item)
                if found is None:
                    return item.model_copy(update={"duplicate_how": NEW_CALL})
                bump(self.crawler, item.source, f"dedup/{found.how}")
                return item.model_copy(update={"duplicate_of": found.opportunity_id, "duplicate_how": found.how})
        return item


class PersistPipeline(_Stage):
    """Upserts into the database. Commits every BATCH items, and at least every
    COMMIT_EVERY seconds so that a slow crawl never holds SQLite's write lock for long
    (another crawl process may be writing too)."""

    BATCH = 500
    COMMIT_EVERY = 1.0

    def __init__(self, crawler: Crawler | None = None):
        super().__init__(crawler)
        assert crawler is not None
        self.pending = 0
        self.last_commit = time.monotonic()
        self._loop: task.LoopingCall | None = None

    @property
    def session(self) -> Session:
        assert self.crawler is not None
        return crawl_session(self.crawler)

    def open_spider(self, spider: Any = None) -> None:
        self._loop = task.LoopingCall(self._commit_if_due)
        self._loop.start(self.COMMIT_EVERY, now=False)

    def close_spider(self, spider: Any = None) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        assert self.crawler is not None
        session = _SESSIONS.pop(self.crawler, None)
        if session is not None:
            session.commit()
            session.close()

    def _commit(self) -> None:
        self.session.commit()
        self.pending = 0
        self.last_commit = time.monotonic()

    def _commit_if_due(self) -> None:
        # Also a transaction that only read (the dedupe lookups) holds SQLite's lock: end it.
        if (self.pending or self.session.in_transaction()) and time.monotonic() - self.last_commit >= self.COMMIT_EVERY:
            self._commit()

    def process_item(self, item: Opportunity) -> Opportunity:
        from crawlers.dedupe import Duplicate
        from crawlers.persistence import DETECT, upsert_opportunity

        assert self.crawler is not None and self.crawler.stats is not None
        run_ids = self.crawler.stats.get_value("convoca/run_ids") or {}
        checked = item.duplicate_how is not None
        duplicate = Duplicate(item.duplicate_of, item.duplicate_how or "url") if item.duplicate_of else None
        try:
            with self.session.begin_nested():  # one bad row rolls back alone, not the batch
                result = upsert_opportunity(self.session, item, run_id=run_ids.get(item.source),
                                            duplicate=duplicate if checked else DETECT, known_new=checked)
        except SQLAlchemyError as exc:
            log.error("persist_failed", source=item.source, source_id=item.source_id, error=str(exc)[:300])
            raise self.drop(item.source, "persist_error", str(exc)[:200]) from exc
        bump(self.crawler, item.source, result.outcome)
        self.pending += 1
        if self.pending >= self.BATCH:
            self._commit()
        return item
