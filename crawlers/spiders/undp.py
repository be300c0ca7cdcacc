"""UNDP procurement notices of the Colombia country office (procurement-notices.undp.org).

The listing (`search.cfm`, ColdFusion) is a table of links to `view_notice.cfm?notice_id=N`,
each row with labelled cells: Title, Ref No, UNDP Office/Country, Process, Deadline
("12-Feb-27 @ 11:59 PM (New York time)": two-digit year, New York time), Posted. The notice
page repeats them as label/value rows and adds the description. Calls for proposals are
grants to local partners; RFP/RFQ/ITB/IC are procurement.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import scrapy
from parsel import SelectorList
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.items import CallItem
from crawlers.parsing.dates import parse_datetime
from crawlers.parsing.html import html_to_text
from crawlers.parsing.money import amount_sentences
from crawlers.platforms.base import ConvocaSpider

LIST_URL = "https://procurement-notices.undp.org/search.cfm"
OFFICE = "COL"
_ZONE = re.compile(r"\((New York|NY|EST|EDT)[^)]*\)", re.I)


def undp_deadline(text: str | None) -> datetime | None:
    """'12-Feb-27 @ 11:59 PM (New York time)' → an aware datetime in New York time."""
    if not text:
        return None
    zone = "America/New_York" if _ZONE.search(text) else "America/Bogota"
    clean = _ZONE.sub("", text).replace("@", " ")
    return parse_datetime(clean, default_tz=zone, languages=("en",))


def cooperation_hint(process: str | None) -> str | None:
    lowered = (process or "").lower()
    if "call for proposal" in lowered or lowered.startswith("cfp") or "grant" in lowered:
        return "financial_non_reimbursable"
    if lowered:
        return "procurement"
    return None


def labelled(row: SelectorList[Any], label_css: str, value_css: str) -> dict[str, str]:
    out = {}
    for cell in row:
        label = " ".join(cell.css(label_css).xpath("string()").get("").split()).rstrip(":").lower()
        value = " ".join(cell.css(value_css).xpath("string()").get("").split())
        if label:
            out[label] = value
    return out


class UndpSpider(ConvocaSpider):
    name = "undp"
    source_name = "PNUD Colombia – avisos de adquisiciones"

    def __init__(self, max_pages: str | int = 10, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_pages = int(max_pages)

    def list_request(self, page: int) -> scrapy.Request:
        return scrapy.Request(f"{LIST_URL}?{urlencode({'cur': page, 'co': OFFICE})}", callback=self.parse,
                              cb_kwargs={"page": page}, errback=self.on_error)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.list_request(1)

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:
        rows = response.css("a.vacanciesTable__row")
        if not rows:
            self.bad_page(response, "no_notice_rows", page=page)
            return
        for row in rows:
            cells = labelled(row.css("div.vacanciesTable__cell"), ".vacanciesTable__cell__label", "span")
            href = row.attrib.get("href", "")
            notice_id = (parse_qs(urlsplit(href).query).get("notice_id") or [""])[0]
            if not notice_id:
                self.drop_record("missing_source_id", cells.get("ref no", "(row)"))
                continue
            if OFFICE not in cells.get("undp office/country", "").upper():
                self.skip_item("other_country_office", notice_id)
                continue
            listing = {"notice_id": notice_id, "url": response.urljoin(href), **cells}
            yield scrapy.Request(listing["url"], callback=self.parse_notice, cb_kwargs={"listing": listing},
                                 errback=self.notice_failed, meta={"listing": listing})
        if response.css("a.pagination__next") and page < self.max_pages:
            yield self.list_request(page + 1)

    def item(self, listing: dict[str, Any], notice: dict[str, str] | None = None, description: str | None = None) -> CallItem:
        notice = notice or {}
        process = notice.get("procurement process") or listing.get("process")
        deadline = undp_deadline(notice.get("deadline") or listing.get("deadline"))
        return CallItem(
            source=self.name,
            source_id=listing["notice_id"],
            url=listing["url"],
            title=notice.get("title") or listing.get("title") or "",
            description=description,
            amount_text=amount_sentences(html_to_text(description)),
            funder="Programa de las Naciones Unidas para el Desarrollo (PNUD) – Colombia",
            opens_at=notice.get("posted") or listing.get("posted"),
            deadlines=[deadline] if deadline else [],
            cooperation_type=cooperation_hint(process),
            eligible_countries=["CO"],
            topics=[t for t in (process, notice.get("development area")) if t],
            raw={"listing": listing, "notice": notice, "reference": notice.get("reference") or listing.get("ref no")},
        )

    def parse_notice(self, response: Response, listing: dict[str, Any]) -> Iterator[CallItem]:
        rows = response.css("div.notice__row")
        if not rows:
            self.bad_page(response, "no_notice_fields", id=listing["notice_id"])
            yield self.item(listing)
            return
        notice = labelled(rows, ".notice__label", ".notice__value")
        notice["title"] = " ".join(response.css("h1.notice__title").xpath("string()").get("").split())
        yield self.item(listing, notice, response.css("div.notice__description").get())

    def notice_failed(self, failure: Failure) -> Iterator[CallItem]:
        self.on_error(failure)
        yield self.item(failure.request.meta["listing"])  # type: ignore[attr-defined]
