"""The web pages' Jinja2 environment: autoescape everywhere, StrictUndefined, es-CO filters."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from notifier import formatting
from notifier.formatting import BOGOTA
from web import present

TEMPLATES = Path(__file__).parent / "templates"


def http_link(url: object) -> str | None:
    """A scraped URL becomes a link only if it is http(s); `javascript:` and the like stay text."""
    if not isinstance(url, str):
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def local_datetime(value: datetime | None) -> str:
    if value is None:
        return present.NOT_STATED
    return value.astimezone(BOGOTA).strftime("%Y-%m-%d %H:%M")


def version_value(value: Any) -> str:
    """A version row's old/new value as short text (the stored value is JSON)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return _clip(_maybe_datetime(value))
    if isinstance(value, list):
        return _clip(", ".join(_maybe_datetime(v) if isinstance(v, str) else str(v) for v in value))
    if isinstance(value, float):
        return formatting.number(value, 2)
    return _clip(json.dumps(value, ensure_ascii=False))


def _maybe_datetime(text: str) -> str:
    """ISO timestamps (how versions store dates) read as Bogotá time; anything else as is."""
    if "T" in text and len(text) <= 40:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return text
        if parsed.tzinfo is not None:
            return local_datetime(parsed)
    return text


def decimal(value: float | None, digits: int = 2) -> str:
    """es-CO decimals (0,48), always with the given number of digits."""
    if value is None:
        return present.NOT_STATED
    return format_decimal(value, format="0." + "0" * digits if digits else "0", locale=formatting.LOCALE)


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=True,  # every web template is HTML; scraped text is always escaped
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update({
        "money": formatting.money,
        "number": formatting.number,
        "decimal": decimal,
        "long_date": present.date_text,
        "local_datetime": local_datetime,
        "countdown": present.countdown,
        "amount": present.amount_text,
        "cooperation_label": lambda c: present.COOPERATION_LABELS.get(c or "", present.NOT_STATED),
        "applicant_label": lambda c: present.APPLICANT_LABELS.get(c, c),
        "language_label": lambda c: present.LANGUAGE_LABELS.get(c or "", present.NOT_STATED),
        "status_label": lambda c: present.MATCH_STATUS_LABELS.get(c, c),
        "verdict_label": lambda c: present.VERDICT_LABELS.get(c, c),
        "reason_label": lambda c: present.REASON_LABELS.get(c, c),
        "opportunity_status_label": lambda c: present.OPPORTUNITY_STATUS_LABELS.get(c or "", present.NOT_STATED),
        "filter_label": lambda c: present.FILTER_LABELS.get(c, c),
        "filter_status_label": lambda c: present.FILTER_STATUS_LABELS.get(c, c),
        "filter_detail": lambda f: present.filter_detail(f.get("name", ""), f.get("status", ""), f.get("detail") or {}),
        "feature_label": lambda c: present.FEATURE_LABELS.get(c, c),
        "field_label": lambda c: present.FIELD_LABELS.get(c, c),
        "version_value": version_value,
        "http_link": http_link,
    })
    env.globals.update({
        "REASON_LABELS": present.REASON_LABELS,
        "VERDICT_LABELS": present.VERDICT_LABELS,
        "MATCH_STATUS_LABELS": present.MATCH_STATUS_LABELS,
        "COOPERATION_LABELS": present.COOPERATION_LABELS,
        "LANGUAGE_LABELS": present.LANGUAGE_LABELS,
    })
    return env


def render(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)
