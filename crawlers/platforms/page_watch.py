"""The configurable page-watch spider: one crawl, many watched pages (config/sources.yaml).

Each enabled entry is its own source (its own slug on every item and its own source run).
With `selectors`, each item node of the listing is read field by field; with `detail`, the
call's own page is read too. Without selectors the generic extractor looks for links that
read like calls in the page's main content and takes deadline and amount from the text
around each link. Either way the pipelines normalise dates and amounts.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
import structlog
from parsel import Selector, SelectorList
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from config.sources_schema import PageWatchSource, SourcesConfig, is_xpath
from convoca.errors import ConfigError
from crawlers.items import CallItem
from crawlers.parsing.dates import find_deadlines, parse_datetime
from crawlers.parsing.money import amount_sentences
from crawlers.platforms.base import ConvocaSpider

log = structlog.stdlib.get_logger("convoca.page_watch")

DEFAULT_KEYWORDS = (
    "convocatoria", "convocatorias", "call for", "calls for", "grant", "grants", "beca", "becas", "premio",
    "award", "fondo", "fund", "request for proposals", "rfp", "licitación", "concurso", "subvención",
    "subvenciones", "postulación", "postula", "oportunidad", "open call", "challenge", "desafío",
    "financiamiento", "financiación", "expression of interest",
)
# Links inside these never are calls: menus, headers, footers, breadcrumbs, share buttons.
_CHROME = ("nav", "header", "footer", "aside")
_CHROME_CLASS = re.compile(r"\b(menu|nav|breadcrumb|footer|header|share|social|pager|pagination|skip)\b", re.I)
_BLOCKS = ("li", "article", "tr", "section", "div", "p", "dd")
_CONTENT = ("main", "article", "[role=main]", "#content", ".content", "#main", "body")


def load_sources(path: Path) -> SourcesConfig:
    from config.loader import load_model

    return load_model(path, SourcesConfig)


def select(node: Selector | SelectorList[Selector] | TextResponse, selector: str) -> SelectorList[Selector]:
    return node.xpath(selector) if is_xpath(selector) else node.css(selector)


def text_of(node: Selector | SelectorList[Selector] | TextResponse, selector: str | None) -> str | None:
    """Text of what a selector finds: an element's whole text, or a text/attribute value."""
    if not selector:
        return None
    parts = []
    for found in select(node, selector):
        value = found.xpath("string()").get() if found.root is not None and hasattr(found.root, "tag") else found.get()
        if value:
            parts.append(" ".join(value.split()))
    joined = " ".join(p for p in parts if p)
    return joined or None


def href_of(node: Selector, selector: str | None) -> str | None:
    found = select(node, selector) if selector else node.css("a[href]")
    for match in found:
        if hasattr(match.root, "tag"):
            href = match.attrib.get("href") or (match.css("a::attr(href)").get() if match.root.tag != "a" else None)
        else:
            href = match.get()
        if href and not href.startswith(("#", "javascript:", "mailto:")):
            return href.strip()
    return None


def source_id_for(url: str) -> str:
    parts = urlsplit(url)
    ident = parts.path.rstrip("/") or "/"
    return f"{ident}?{parts.query}" if parts.query else ident


class GenericExtractor:
    """Calls on a page without selectors: links whose text reads like a call, with context."""

    def __init__(self, keywords: list[str] | None = None):
        words = keywords or list(DEFAULT_KEYWORDS)
        self.pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")", re.I)

    def region(self, response: TextResponse) -> Selector:
        for css in _CONTENT:
            found = response.css(css)
            if found and found[0].css("a[href]"):
                return found[0]
        return response.selector

    @staticmethod
    def _in_chrome(link: Selector) -> bool:
        for ancestor in link.xpath("ancestor::*"):
            tag = ancestor.root.tag if hasattr(ancestor.root, "tag") else ""
            if tag in _CHROME or _CHROME_CLASS.search(ancestor.attrib.get("class", "") + " " + ancestor.attrib.get("id", "")):
                return True
        return False

    @staticmethod
    def _block(link: Selector) -> Selector:
        """The smallest enclosing block that holds more than the link itself."""
        own = " ".join(link.xpath("string()").get("").split())
        for ancestor in reversed(link.xpath("ancestor::*")):
            if ancestor.root.tag in _BLOCKS:
                text = " ".join(ancestor.xpath("string()").get("").split())
                if len(text) > len(own) + 10 or ancestor.root.tag in ("li", "article", "tr"):
                    return ancestor
        return link

    def extract(self, response: TextResponse) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        for link in self.region(response).css("a[href]"):
            title = " ".join(link.xpath("string()").get("").split()) or link.attrib.get("title", "")
            href = link.attrib.get("href", "")
            if not title or href.startswith(("#", "javascript:", "mailto:")) or len(title) < 12:
                continue
            if not (self.pattern.search(title) or self.pattern.search(href.replace("-", " "))):
                continue
            if self._in_chrome(link):
                continue
            url = response.urljoin(href)
            if url in seen or url.rstrip("/") == response.url.rstrip("/"):
                continue
            seen.add(url)
            block = self._block(link)
            context = " ".join(block.xpath("string()").get("").split())
            yield {"title": title, "url": url, "context": context[:1500]}


class PageWatchBase(ConvocaSpider):
    """Subclassed by crawlers/spiders/page_watch.py, which gives it its name."""

    def __init__(self, entries: str = "", sources_file: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self._wanted = [e.strip() for e in entries.split(",") if e.strip()]
        self._sources_file = sources_file
        self.entries: dict[str, PageWatchSource] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PageWatchBase:
        spider = super().from_crawler(crawler, *args, **kwargs)
        path = Path(spider._sources_file or Path(crawler.settings.get("CONVOCA_CONFIG_DIR", "config")) / "sources.yaml")
        try:
            config = load_sources(path)
        except ConfigError as exc:
            for issue in exc.issues:
                log.error("sources_config_invalid", file=issue.file, line=issue.line, field=issue.field,
                          message=issue.message)
            return spider
        chosen = config.enabled() if not spider._wanted else [e for e in config.page_watch if e.slug in spider._wanted]
        unknown = set(spider._wanted) - {e.slug for e in chosen}
        if unknown:
            log.error("page_watch_unknown_entries", entries=sorted(unknown), file=str(path))
        spider.entries = {e.slug: e for e in chosen}
        return spider

    def source_slugs(self) -> dict[str, str]:
        return {slug: entry.name for slug, entry in self.entries.items()}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for entry in self.entries.values():
            yield self.listing_request(entry, entry.url, 0)

    def listing_request(self, entry: PageWatchSource, url: str, page: int) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse, cb_kwargs={"slug": entry.slug, "page": page},
                              errback=self.on_error, meta={"convoca_source": entry.slug})

    def parse(self, response: Response, slug: str = "", page: int = 0) -> Iterator[Any]:
        entry = self.entries[slug]
        if not isinstance(response, TextResponse):
            self.bad_page(response, "not_html", source=slug)
            return
        found = 0
        records = self.read_with_selectors(response, entry) if entry.selectors else self.read_generic(response, entry)
        for record in records:
            found += 1
            if entry.detail is not None:
                yield scrapy.Request(record["url"], callback=self.parse_detail, cb_kwargs={"slug": slug, "record": record},
                                     errback=self.detail_failed, meta={"convoca_source": slug, "record": record})
            else:
                yield self.item(entry, record)
        if found == 0:
            # Zero calls on a watched page usually means the page changed under the selectors.
            self.bad_page(response, "no_calls_found", source=slug, page=page,
                          extractor="selectors" if entry.selectors else "generic")
        next_selector = entry.selectors.next_page if entry.selectors else None
        if next_selector and page + 1 < entry.max_pages:
            href = href_of(response.selector, next_selector)
            if href:
                yield self.listing_request(entry, response.urljoin(href), page + 1)

    def read_with_selectors(self, response: TextResponse, entry: PageWatchSource) -> Iterator[dict[str, Any]]:
        sel = entry.selectors
        assert sel is not None
        for node in select(response, sel.item):
            href = href_of(node, sel.link)
            title = text_of(node, sel.title) or (text_of(node, sel.link) if sel.link and "::attr" not in sel.link else None)
            if not title:
                link = node.css("a[href]")
                title = " ".join(link[0].xpath("string()").get("").split()) if link else None
            if not href:
                self.drop_record("missing_link", (title or "(item)")[:80], source=entry.slug)
                continue
            yield {
                "url": response.urljoin(href),
                "title": title or "",
                "date": text_of(node, sel.date),
                "deadline": text_of(node, sel.deadline),
                "amount": text_of(node, sel.amount),
                "description": text_of(node, sel.description),
                "context": " ".join(node.xpath("string()").get("").split())[:1500],
            }

    def read_generic(self, response: TextResponse, entry: PageWatchSource) -> Iterator[dict[str, Any]]:
        for found in GenericExtractor(entry.keywords).extract(response):
            yield {**found, "date": None, "deadline": None, "amount": None, "description": None}

    def item(self, entry: PageWatchSource, record: dict[str, Any], detail: dict[str, str | None] | None = None) -> CallItem:
        detail = detail or {}
        context = record.get("context") or ""
        text = " ".join(filter(None, [detail.get("description"), detail.get("eligibility"), context]))
        stated = detail.get("deadline") or record.get("deadline")
        deadlines: list[str | datetime] = []
        if stated:
            parsed = parse_datetime(stated, default_tz=entry.timezone)
            deadlines = [parsed] if parsed else list(find_deadlines(stated, default_tz=entry.timezone))
        if not deadlines:
            deadlines = list(find_deadlines(text, default_tz=entry.timezone))
        return CallItem(
            source=entry.slug,
            source_id=source_id_for(record["url"]),
            url=record["url"],
            title=detail.get("title") or record.get("title") or "",
            description=detail.get("description") or record.get("description") or context or None,
            summary=record.get("description"),
            funder=entry.funder,
            language=entry.language,
            opens_at=record.get("date"),
            deadlines=deadlines,
            amount_text=detail.get("amount") or record.get("amount") or amount_sentences(text),
            currency=entry.currency,
            cooperation_type=entry.cooperation_type,
            eligible_countries=list(entry.eligible_countries) if entry.eligible_countries else None,
            eligible_applicants=list(entry.eligible_applicants) if entry.eligible_applicants else None,
            eligibility_text=detail.get("eligibility"),
            raw={"watched_page": entry.url, "record": record, "detail": detail},
        )

    def parse_detail(self, response: Response, slug: str, record: dict[str, Any]) -> Iterator[CallItem]:
        entry = self.entries[slug]
        if not isinstance(response, TextResponse):
            self.bad_page(response, "not_html", source=slug)
            yield self.item(entry, record)
            return
        assert entry.detail is not None
        d = entry.detail
        detail = {"title": text_of(response, d.title), "description": None, "deadline": text_of(response, d.deadline),
                  "amount": text_of(response, d.amount), "eligibility": text_of(response, d.eligibility)}
        if d.description:
            found = select(response, d.description)
            detail["description"] = found.get() if found else None
        if not any(detail.values()):
            self.bad_page(response, "detail_selectors_found_nothing", source=slug)
        yield self.item(entry, record, detail)

    def detail_failed(self, failure: Failure) -> Iterator[CallItem]:
        self.on_error(failure)
        request = failure.request  # type: ignore[attr-defined]
        yield self.item(self.entries[request.meta["convoca_source"]], request.meta["record"])
