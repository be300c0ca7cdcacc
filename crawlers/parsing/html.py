"""HTML to safe plain text: scraped markup never reaches a page or an email as markup."""

from __future__ import annotations

import re

from lxml import html as lxml_html
from lxml.etree import ParserError

_BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "article"}
_SPACES = re.compile(r"[ \t\u00a0]+")
_LINES = re.compile(r"\n\s*\n+")


def html_to_text(value: str | None) -> str | None:
    if value is None:
        return None
    if "<" not in value and "&" not in value:
        text = value
    else:
        try:
            root = lxml_html.fragment_fromstring(value, create_parent="div")
        except (ParserError, ValueError):
            return " ".join(value.split()) or None
        for bad in root.xpath("//script|//style|//noscript"):
            bad.drop_tree()
        for el in root.iter():
            if isinstance(el.tag, str) and el.tag.lower() in _BLOCK:
                el.tail = "\n" + (el.tail or "")
        text = root.text_content()
    text = _SPACES.sub(" ", text)
    text = _LINES.sub("\n\n", "\n".join(line.strip() for line in text.splitlines()))
    text = text.strip()
    return text or None


def summarise(text: str | None, limit: int = 400) -> str | None:
    if not text:
        return None
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0]
    return cut + "…"
