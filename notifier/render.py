"""The one Jinja2 environment: StrictUndefined everywhere, autoescape on HTML templates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

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
    env.filters["money"] = formatting.money
    env.filters["long_date"] = formatting.long_date
    env.filters["number"] = formatting.number
    env.filters["cooperation_label"] = lambda code: COOPERATION_TYPE_LABELS_ES.get(code, code)
    env.filters["applicant_label"] = lambda code: APPLICANT_TYPE_LABELS_ES.get(code, code)
    return env


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def render(kind: str, context: dict[str, Any]) -> Rendered:
    env = environment()
    subject = env.get_template(f"{kind}/subject.txt.j2").render(**context)
    return Rendered(
        subject=" ".join(subject.split()),
        html=env.get_template(f"{kind}/body.html.j2").render(**context),
        text=env.get_template(f"{kind}/body.txt.j2").render(**context),
    )
