"""World Bank procurement notices for Colombia, from the search API (JSON, no key).

GET .../api/v2/procnotices?format=json&rows=N&os=OFFSET&project_ctry_name=Colombia&...
answers `{rows, os, page, total, procnotices: [...]}`; `total` may be a string, and older
answers carried `procnotices` as an object keyed by notice id instead of a list. Contract
award notices announce a winner, not an opportunity: they are filtered. Every notice is a
procurement opportunity of a Bank-financed project.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawlers.items import CallItem
from crawlers.platforms.base import ConvocaSpider

API_URL = "https://search.worldbank.org/api/v2/procnotices"
NOTICE_URL = "https://projects.worldbank.org/en/projects-operations/procurement-detail/{}"
FIELDS = ("id,notice_type,noticedate,notice_status,notice_lang_name,submission_deadline_date,"
          "submission_deadline_time,project_ctry_name,project_id,project_name,bid_reference_no,"
          "bid_description,procurement_group,procurement_method_name,contact_organization,notice_text")
_NOT_OPPORTUNITIES = ("contract award", "award notice")
_GROUPS = {"CS": "Consultoría", "GO": "Bienes", "CW": "Obras", "NC": "Servicios de no consultoría"}


class WorldbankSpider(ConvocaSpider):
    name = "worldbank"
    source_name = "Banco Mundial – avisos de adquisiciones (Colombia)"

    def __init__(self, page_size: str | int = 100, max_pages: str | int = 20, country: str = "Colombia",
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.page_size = int(page_size)
        self.max_pages = int(max_pages)
        self.country = country

    def page_request(self, offset: int) -> scrapy.Request:
        query = {"format": "json", "fl": FIELDS, "rows": self.page_size, "os": offset,
                 "project_ctry_name": self.country, "srt": "noticedate", "order": "desc"}
        return scrapy.Request(f"{API_URL}?{urlencode(query)}", callback=self.parse, cb_kwargs={"offset": offset},
                              errback=self.on_error)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.page_request(0)

    def parse(self, response: Response, offset: int = 0) -> Iterator[Any]:
        try:
            data = json.loads(response.text)
        except json.JSONDecodeError as exc:
            self.bad_page(response, "invalid_json", error=exc.msg, offset=offset)
            return
        notices = data.get("procnotices") if isinstance(data, dict) else None
        if isinstance(notices, dict):  # the older shape: an object keyed by notice id
            notices = [{"id": key, **value} for key, value in notices.items() if isinstance(value, dict)]
        if not isinstance(notices, list):
            self.bad_page(response, "no_notice_list", offset=offset)
            return
        for notice in notices:
            item = self.parse_notice(notice)
            if item is not None:
                yield item
        if offset == 0:
            try:
                total = int(str(data.get("total") or 0))
            except ValueError:
                total = 0
            pages = min(-(-total // self.page_size), self.max_pages)
            for page in range(1, pages):
                yield self.page_request(page * self.page_size)

    def parse_notice(self, notice: dict[str, Any]) -> CallItem | None:
        notice_id = str(notice.get("id") or "").strip()
        if not notice_id:
            self.drop_record("missing_source_id", str(notice.get("bid_reference_no")))
            return None
        kind = str(notice.get("notice_type") or "")
        if any(word in kind.lower() for word in _NOT_OPPORTUNITIES):
            self.skip_item("contract_award", notice_id)
            return None
        deadline = notice.get("submission_deadline_date")
        if deadline and notice.get("submission_deadline_time"):
            deadline = f"{str(deadline)[:10]} {notice['submission_deadline_time']}"  # local time in Colombia
        project = notice.get("project_name")
        description = notice.get("notice_text") or " · ".join(
            x for x in (kind, project, notice.get("procurement_method_name")) if x)
        return CallItem(
            source=self.name,
            source_id=notice_id,
            url=NOTICE_URL.format(notice_id),
            title=notice.get("bid_description") or "",
            description=description,
            funder=" – ".join(x for x in ("Banco Mundial", notice.get("contact_organization")) if x),
            language="es" if str(notice.get("notice_lang_name", "")).lower().startswith("span") else None,
            status=notice.get("notice_status"),
            opens_at=notice.get("noticedate"),
            deadlines=[deadline] if deadline else [],
            cooperation_type="procurement",
            eligible_countries=["CO"] if str(notice.get("project_ctry_name", "")).lower() == "colombia" else None,
            topics=[t for t in (kind, _GROUPS.get(str(notice.get("procurement_group")))) if t],
            raw=notice,
        )
