"""The one Jinja2 environment: StrictUndefined everywhere, autoescape on HTML templates.

All copy lives in templates/. An HTML body is written with a <style> block and classes, then
its CSS is inlined into style attributes (mail clients drop <style>); nothing remote is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from convoca.vocab import APPLICANT_TYPE_LABELS_ES, COOPERATION_TYPE_LABELS_ES
from notifier import formatting

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False, default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update({
        "money": formatting.money,
        "amount_range": formatting.amount_range,
        "pesos": formatting.pesos,
        "long_date": formatting.long_date,
        "day_date": formatting.day_date,
        "number": formatting.number,
        "percent": formatting.percent,
        "country": formatting.country,
        "sentence": formatting.sentence,
        "cooperation_label": lambda code: COOPERATION_TYPE_LABELS_ES.get(code, code),
        "applicant_label": lambda code: APPLICANT_TYPE_LABELS_ES.get(code, code),
    })
    return env


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def render_text(name: str, context: dict[str, Any]) -> str:
    """A short text template (subject, calendar field) as one trimmed string."""
    return environment().get_template(name).render(**context).strip()


def render(kind: str, context: dict[str, Any]) -> Rendered:
    env = environment()
    subject = " ".join(render_text(f"{kind}/subject.txt.j2", context).split())
    html = _inliner().inline(env.get_template(f"{kind}/body.html.j2").render(**context))
    text = env.get_template(f"{kind}/body.txt.j2").render(**context)
    return Rendered(subject=subject, html=html, text=text)
