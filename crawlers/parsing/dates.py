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


_DEADLINE_CUE = re.compile(
    r"(deadline|closing date|closes? (?:on)?|close on|apply by|applications? (?:must be )?(?:received|submitted) by|"
    r"applications? close|submission deadline|until|due (?:date|by)|fecha (?:l[ií]mite|de cierre)|cierre|cierra|"
    r"hasta el|plazo(?: m[aá]ximo)?|date limite|date de cl[oô]ture|prazo|encerra(?:m)?(?: em)?|at[eé] o dia)",
    re.IGNORECASE,
)
_DATE_SPAN = re.compile(
    r"(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    r"|\d{1,2}-[A-Za-z]{3,9}-\d{4}"
    r"|(?:\w+,?\s+)?\d{1,2}(?:st|nd|rd|th|º|°)?\s+(?:de\s+)?[A-Za-zéíáóúñç]{3,12}\.?,?\s+(?:de\s+|del\s+)?\d{4}"
    r"|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})"
    # An optional time of day and zone: "17:00 CET", "11:59 p.m. (GMT-5)", "4:00 pm".
    r"(?:,?\s+(?:at\s+|a las\s+)?\d{1,2}:\d{2}(?:\s*[ap]\.?\s?m\.?)?"
    r"(?:\s*\(?(?:[A-Z]{2,5}(?:[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{2}:?\d{2})\)?)?)?",
    re.IGNORECASE,
)


def find_deadlines(text: str | None, *, default_tz: str = DEFAULT_TZ, window: int = 80) -> list[datetime]:
    """Dates stated as deadlines in free text ('Applications close on 14 March 2027', 'Cierre: 20/02/2027')."""
    if not text:
        return []
    found: list[datetime] = []
    for cue in _DEADLINE_CUE.finditer(text):
        span = text[cue.end(): cue.end() + window]
        match = _DATE_SPAN.search(span)
        if match is None:
            continue
        parsed = parse_datetime(match.group(0), default_tz=default_tz, languages=("es", "en", "fr", "pt"))
        if parsed is None and " " in match.group(0):
            # The optional leading word was an article ("el 15 de abril"), not a weekday.
            parsed = parse_datetime(match.group(0).split(" ", 1)[1], default_tz=default_tz,
                                    languages=("es", "en", "fr", "pt"))
        if parsed is not None and parsed not in found:
            found.append(parsed)
    return sorted(found)
