"""MinCiencias convocatorias: the Drupal listing table, every page, and each call's page.

Listing `/convocatorias/todas?page=N` (0-based): `table.views-table` rows with the call number,
the title linking to the call's page, a short description, the amount in COP
("$749.982.430.291") and the opening date (ISO in the `content` attribute). The call's page
states its status ("Convocatoria Abierta") and a schedule table "Actividad | Fecha |
Documentos": every row whose activity starts with "Cierre" is a deadline, in Spanish
("viernes 26 marzo 2027 04:00 pm"). When the call's page cannot be read the listing row is
still kept, without a deadline.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from parsel import Selector, SelectorList
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.items import CallItem
from crawlers.platforms.base import ConvocaSpider

LISTING_URL = "https://minciencias.gov.co/convocatorias/todas"
FUNDER = "Ministerio de Ciencia, Tecnología e Innovación (Minciencias)"
_STATUS = {"abierta": "open", "cerrada": "closed", "finalizada": "closed", "en evaluación": "closed",
           "próxima": "forthcoming", "proxima": "forthcoming"}


def status_of(text: str | None) -> str | None:
    lowered = (text or "").lower()
    return next((status for word, status in _STATUS.items() if word in lowered), None)


def closing_dates(page: SelectorList[Any]) -> list[str]:
    """The date cell of every schedule row whose activity starts with 'Cierre'."""
    out = []
    for row in page.css("table tr"):
        cells = [" ".join(c.xpath("string()").get("").split()) for c in row.xpath("./td|./th")]
        if len(cells) >= 2 and cells[0].lower().startswith("cierre") and cells[1]:
            out.append(cells[1])
    return out


class MincienciasSpider(ConvocaSpider):
    name = "minciencias"
    source_name = "Minciencias – convocatorias"

    def __init__(self, max_pages: str | int = 30, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_pages = int(max_pages)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(LISTING_URL, callback=self.parse, cb_kwargs={"page": 0}, errback=self.on_error)

    def parse(self, response: Response, page: int = 0) -> Iterator[Any]:
        rows = response.css("table.views-table tbody tr")
        if not rows:
            self.bad_page(response, "no_listing_table", page=page)
            return
        for row in rows:
            listing = self.parse_row(response, row)
            if listing is None:
                continue
            yield response.follow(listing["url"], callback=self.parse_call, cb_kwargs={"listing": listing},
                                  errback=self.call_page_failed, meta={"listing": listing})
        next_href = response.css("ul.pager li.pager-next a::attr(href)").get()
        if next_href and page + 1 < self.max_pages:
            yield response.follow(next_href, callback=self.parse, cb_kwargs={"page": page + 1}, errback=self.on_error)

    def parse_row(self, response: Response, row: Selector) -> dict[str, Any] | None:
        link = row.css("td.views-field-title a")
        href = link.attrib.get("href") if link else None
        title = " ".join(link.xpath("string()").get("").split()) if link else ""
        if not href:
            self.drop_record("missing_link", title[:80] or "(row)")
            return None
        url = response.urljoin(href)
        number = " ".join(row.css("td.views-field-field-numero").xpath("string()").get("").split())
        return {
            "url": url,
            "number": number,
            "title": title,
            "body": " ".join(row.css("td.views-field-body").xpath("string()").get("").split()),
            "amount": " ".join(row.css("td.views-field-field-cuantia").xpath("string()").get("").split()),
            "opens": row.css("td.views-field-field-fecha-de-apertura span[content]::attr(content)").get()
            or " ".join(row.css("td.views-field-field-fecha-de-apertura").xpath("string()").get("").split()),
        }

    def item(self, listing: dict[str, Any], **detail: Any) -> CallItem:
        source_id = listing["number"] or listing["url"].rstrip("/").rsplit("/", 1)[-1]
        return CallItem(
            source=self.name,
            source_id=source_id,
            url=listing["url"],
            title=detail.get("title") or listing["title"],
            description=detail.get("description") or listing["body"],
            summary=listing["body"] or None,
            funder=FUNDER,
            language="es",
            status=detail.get("status"),
            opens_at=listing["opens"] or None,
            deadlines=detail.get("deadlines", []),
            amount_max=detail.get("amount") or listing["amount"] or None,
            currency="COP",
            eligible_countries=["CO"],
            eligibility_text=detail.get("eligibility"),
            topics=[f"Convocatoria {listing['number']}"] if listing["number"] else [],
            raw={"listing": listing, "detail": {k: v for k, v in detail.items() if k != "description"}},
        )

    def parse_call(self, response: Response, listing: dict[str, Any]) -> Iterator[CallItem]:
        body = response.css("div.field-name-body")
        if not body:
            self.bad_page(response, "no_call_body", id=listing["number"])
            yield self.item(listing)
            return
        eligibility = None
        for paragraph in body.css("p"):
            text = " ".join(paragraph.xpath("string()").get("").split())
            if text.lower().startswith("dirigida a"):
                eligibility = text.split(":", 1)[-1].strip()
        state = " ".join(response.css("div.field-name-field-estado").xpath("string()").get("").split())
        resources = " ".join(response.css("div.field-name-field-recursos .field-item").xpath("string()").get("").split())
        yield self.item(
            listing,
            title=" ".join(response.css("h1.page-header").xpath("string()").get("").split()) or None,
            description=body.get(),
            status=status_of(state),
            deadlines=closing_dates(response.css("div.field-name-field-cronograma") or response.css("body")),
            amount=resources or None,
            eligibility=eligibility,
        )

    def call_page_failed(self, failure: Failure) -> Iterator[CallItem]:
        self.on_error(failure)
        yield self.item(failure.request.meta["listing"])  # type: ignore[attr-defined]
