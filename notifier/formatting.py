"""es-CO formatting of dates, money and counts (Babel), exposed to templates as filters.

Every function takes None for "unknown" and returns None, so templates decide how to say
"no indicado" and no value is ever guessed.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "es_CO"
BOGOTA = ZoneInfo("America/Bogota")
_LOCALE = Locale.parse(LOCALE)


def local_date(value: datetime | date) -> date:
    """The calendar day in Bogotá of an aware datetime (a date stays as it is)."""
    return value.astimezone(BOGOTA).date() if isinstance(value, datetime) else value


def number(value: float | None, digits: int = 0) -> str | None:
    if value is None:
        return None
    return format_decimal(round(value, digits), locale=LOCALE)


def money(amount: float | None, currency: str | None) -> str | None:
    """'EUR 1.500.000': the ISO code, never a bare '$' that could be pesos or dollars."""
    if amount is None or not currency:
        return None
    return f"{currency} {format_decimal(round(amount), locale=LOCALE)}"


def amount_range(low: float | None, high: float | None, currency: str | None) -> str | None:
    """'EUR 500.000 – 1.500.000', 'hasta EUR 1.500.000' or 'desde EUR 500.000'."""
    if not currency or (low is None and high is None):
        return None
    if low is not None and high is not None and round(low) != round(high):
        return f"{currency} {format_decimal(round(low), locale=LOCALE)} – {format_decimal(round(high), locale=LOCALE)}"
    if high is not None and low is None:
        return f"hasta {money(high, currency)}"
    if low is not None and high is None:
        return f"desde {money(low, currency)}"
    return money(high, currency)


def pesos(amount: float | None) -> str | None:
    """Colombian pesos the way a planning office reads them: 'COP 6.512 millones'."""
    if amount is None:
        return None
    if abs(amount) >= 1_000_000:
        return f"COP {format_decimal(round(amount / 1_000_000), locale=LOCALE)} millones"
    return money(amount, "COP")


def long_date(value: datetime | date | None) -> str | None:
    """'13 de marzo de 2026'."""
    if value is None:
        return None
    return format_date(local_date(value), format="long", locale=LOCALE)


def day_date(value: datetime | date | None) -> str | None:
    """'viernes 13 de marzo de 2026'."""
    if value is None:
        return None
    return format_date(local_date(value), format="EEEE d 'de' MMMM 'de' y", locale=LOCALE)


def country(code: str) -> str:
    if code == "*":
        return "todos los países"
    return _LOCALE.territories.get(code.upper(), code)


def percent(value: float | None) -> str | None:
    if value is None:
        return None
    return f"{format_decimal(round(value, 1), locale=LOCALE)} %"


def sentence(text: str) -> str:
    """Upper-case the first letter only (Jinja's `capitalize` would lower 'EUR' to 'eur')."""
    return text[:1].upper() + text[1:]


def days_until(value: datetime | date | None, today: date) -> int | None:
    if value is None:
        return None
    return (local_date(value) - today).days
