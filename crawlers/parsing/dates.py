"""Dates in Spanish and English, written or numeric, with or without a time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dateparser

DEFAULT_TZ = "America/Bogota"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def parse_datetime(value: str | datetime | None, *, default_tz: str = DEFAULT_TZ,
                   languages: tuple[str, ...] = ("es", "en")) -> datetime | None:
    """An aware datetime, or None when the text holds no date.

    A value without a zone is read in `default_tz` (the source's own zone), then kept aware.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(default_tz))
    text = " ".join(str(value).split())
    if not text:
        return None
    if _ISO.match(text):
        fixed = text.replace("Z", "+00:00")
        # Python < 3.12 rejects +0000 without the colon.
        fixed = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", fixed)
        try:
            parsed = datetime.fromisoformat(fixed)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(default_tz))
    parsed = dateparser.parse(
        text,
        languages=list(languages),
        settings={
            "TIMEZONE": default_tz,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DAY_OF_MONTH": "last",
            "DATE_ORDER": "DMY",
            "STRICT_PARSING": False,
            "REQUIRE_PARTS": ["day", "month", "year"],
        },
    )
    return parsed


def next_deadline(deadlines: list[datetime], now: datetime | None = None) -> datetime | None:
    """The next deadline still ahead; the last one when all have passed."""
    if not deadlines:
        return None
    now = now or datetime.now(UTC)
    ordered = sorted(deadlines)
    for d in ordered:
        if d >= now:
            return d
    return ordered[-1]
