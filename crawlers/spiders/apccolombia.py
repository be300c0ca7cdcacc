"""APC-Colombia: "Convocatorias" and "Oportunidades de cooperación" (Drupal views + node pages).

Both listings are Drupal views: `div.views-row` blocks with the title link, the closing date
(ISO in the `content` attribute of `span.date-display-single`), the cooperant and a teaser;
`ul.pager li.pager-next` leads to `?page=N`. The node page adds the body, the type of
opportunity, who may apply ("Dirigido a") and the link to the terms of reference. APC
publishes non-reimbursable cooperation offered to Colombia, so the country is Colombia; the
type comes from APC's own classification when stated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.selector import Selector
from twisted.python.failure import Failure

from crawlers.items import CallItem
from crawlers.platforms.base import ConvocaSpider

LISTINGS = (
    "https://www.apccolombia.gov.co/convocatorias",
    "https://www.apccolombia.gov.co/oportunidades-de-cooperacion",
)
_TYPES = {
    "beca": "scholarship_exchange", "intercambio": "scholarship_exchange", "pasant": "scholarship_exchange",
    "técnica": "technical", "tecnica": "technical", "sur-sur": "technical", "triangular": "technical",
    "no reembolsable": "financial_non_reimbursable", "financiera": "financial_non_reimbursable",
    "premio": "award_contest", "concurso": "award_contest", "humanitaria": "humanitarian",
}


def cooperation_hint(label: str | None) -> str | None:
    lowered = (label or "").lower()
    return next((kind for word, kind in _TYPES.items() if word in lowered), None)


def _text(selector: Selector | Any) -> str:
    return " ".join(selector.xpath("string()").get("").split()) if selector else ""


class ApccolombiaSpider(ConvocaSpider):
    name = "apccolombia"
    source_name = "APC-Colombia – convocatorias y oportunidades de cooperación"
    delay_factor = 2.0  # a government site that asks for gentle crawling

    def __init__(self, max_pages: str | int = 20, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_pages = int(max_pages)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in LISTINGS:
            yield scrapy.Request(url, callback=self.parse, cb_kwargs={"page": 0}, errback=self.on_error)

    def parse(self, response: Response, page: int = 0) -> Iterator[Any]:
        rows = response.css("div.view-content div.views-row")
        if not rows:
            if response.css("div.view-empty"):
                return  # an empty listing is a fact, not a fault
            self.bad_page(response, "no_listing_rows", page=page)
            return
        for row in rows:
            link = row.css("div.views-field-title a")
            href = link.attrib.get("href") if link else None
            if not href:
                self.drop_record("missing_link", _text(row)[:80])
                continue
            listing = {
                "url": response.urljoin(href),
                "title": _text(link),
                "closes": row.css("div.views-field-field-fecha-cierre span[content]::attr(content)").get()
                or _text(row.css("div.views-field-field-fecha-cierre .field-content")),
                "cooperant": _text(row.css("div.views-field-field-cooperante .field-content")),
                "teaser": _text(row.css("div.views-field-body .field-content")),
                "listing": response.url.split("?")[0].rsplit("/", 1)[-1],
            }
            yield scrapy.Request(listing["url"], callback=self.parse_node, cb_kwargs={"listing": listing},
                                 errback=self.node_failed, meta={"listing": listing})
        next_href = response.css("ul.pager li.pager-next a::attr(href)").get()
        if next_href and page + 1 < self.max_pages:
            yield response.follow(next_href, callback=self.parse, cb_kwargs={"page": page + 1}, errback=self.on_error)

    def item(self, listing: dict[str, Any], **node: Any) -> CallItem:
        kind = node.get("kind")
        return CallItem(
            source=self.name,
            source_id=node.get("nid") or listing["url"].rstrip("/").rsplit("/", 1)[-1],
            url=listing["url"],
            title=node.get("title") or listing["title"],
            description=node.get("body") or listing["teaser"],
            summary=listing["teaser"] or None,
            funder=node.get("cooperant") or listing["cooperant"] or None,
            language="es",
            deadlines=[d for d in (node.get("closes") or listing["closes"],) if d],
            amount_text=node.get("amount"),
            cooperation_type=cooperation_hint(kind),
            eligible_countries=["CO"],
            eligibility_text=node.get("eligibility"),
            topics=[t for t in (kind, "Oportunidad de cooperación" if "oportunidades" in listing["listing"] else None) if t],
            raw={"listing": listing, "node": {k: v for k, v in node.items() if k != "body"}},
        )

    def parse_node(self, response: Response, listing: dict[str, Any]) -> Iterator[CallItem]:
        body = response.css("div.field-name-body")
        if not body:
            self.bad_page(response, "no_node_body", listing=listing["listing"])
            yield self.item(listing)
            return
        shortlink = response.css("link[rel=shortlink]::attr(href)").get("")
        nid = shortlink.rstrip("/").rsplit("/", 1)[-1] if "/node/" in shortlink else None
        yield self.item(
            listing,
            nid=f"node-{nid}" if nid else None,
            title=_text(response.css("h1.page-title")) or None,
            body=body.get(),
            closes=response.css("div.field-name-field-fecha-cierre span[content]::attr(content)").get(),
            cooperant=_text(response.css("div.field-name-field-cooperante .field-item")) or None,
            kind=_text(response.css("div.field-name-field-tipo-de-oportunidad .field-item")) or None,
            eligibility=_text(response.css("div.field-name-field-dirigido-a .field-item")) or None,
            amount=_text(response.css("div.field-name-field-monto .field-item")) or None,
        )

    def node_failed(self, failure: Failure) -> Iterator[CallItem]:
        self.on_error(failure)
        yield self.item(failure.request.meta["listing"])  # type: ignore[attr-defined]
