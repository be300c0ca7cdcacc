"""es-CO formatting of dates, money and counts, exposed to templates as filters."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "es_CO"
BOGOTA = ZoneInfo("America/Bogota")


def money(amount: float | None, currency: str | None) -> str | None:
    if amount is None or not currency:
        return None
    return f"{currency} {format_decimal(round(amount), locale=LOCALE)}"


def long_date(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(BOGOTA).date()
    return format_date(value, format="long", locale=LOCALE)


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return ""
    return format_decimal(round(value, digits), locale=LOCALE)


def days_until(value: datetime | None, today: date) -> int | None:
    if value is None:
        return None
    return (value.astimezone(BOGOTA).date() - today).days
