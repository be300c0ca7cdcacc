"""EU Funding & Tenders Portal, through its search API (SEDIA).

Request: POST .../rest/search?apiKey=SEDIA&text=***&pageSize=N&pageNumber=P with a multipart
body whose `query`, `languages` and `sort` parts are JSON *file* parts (as plain form fields
the API answers 500). Every metadata value is a list of strings; `keywords` is either a list
or one string holding a JSON array; `budgetOverview` and `actions` are JSON inside a string
and may be cut short. The same identifier can come back on several pages, sometimes as a
stub without status or deadline: the dedupe stage keeps the richest copy.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.items import CallItem
from crawlers.platforms.base import ConvocaSpider

API_URL = "https://api.tech.ec.europa.eu/search-api/prod/rest/search"
PORTAL_TOPIC_URL = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/topic-details/{}"
PORTAL_TENDER_URL = "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/tender-details/{}"

STATUS_CODES = {"31094501": "forthcoming", "31094502": "open", "31094503": "closed"}
PROGRAMMES = {"43108390": "Horizon Europe", "43152860": "Digital Europe", "43332642": "EU4Health",
              "43251567": "LIFE", "43353764": "Erasmus+", "43252405": "Interreg", "44181033": "NDICI – Global Europe"}
BOUNDARY = "----convocaSediaBoundary7MA4YWxkTrZu0gW"
_COUNTRY_SUFFIX = re.compile(r"EuropeAid/\d+/[A-Z]+/[A-Z]+/([A-Z]{2})\b")


def multipart_body(parts: dict[str, Any]) -> bytes:
    """Each part as a JSON file part, the shape the API accepts."""
    lines: list[bytes] = []
    for name, value in parts.items():
        lines += [
            f"--{BOUNDARY}".encode(),
            f'Content-Disposition: form-data; name="{name}"; filename="blob"'.encode(),
            b"Content-Type: application/json",
            b"",
            json.dumps(value, separators=(",", ":")).encode(),
        ]
    lines += [f"--{BOUNDARY}--".encode(), b""]
    return b"\r\n".join(lines)


def first(meta: dict[str, Any], key: str) -> str | None:
    values = meta.get(key)
    if isinstance(values, list):
        return str(values[0]) if values else None
    return str(values) if values is not None else None


def as_list(meta: dict[str, Any], key: str) -> list[str]:
    """A metadata list, or a list encoded as one JSON string (the second shape)."""
    values = meta.get(key) or []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        text = str(v).strip()
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except json.JSONDecodeError:
                decoded = None
            if isinstance(decoded, list):
                out.extend(str(x) for x in decoded)
                continue
        out.append(text)
    return list(dict.fromkeys(out))  # first occurrence kept, order kept


_CONTRIB = re.compile(
    r'"action":"(?P<action>[^"]*)"[^{}]*?"minContribution":(?P<min>[\d.]+|null)[^{}]*?"maxContribution":(?P<max>[\d.]+|null)'
)


def budget_for(identifier: str, raw: str | None) -> tuple[float | None, float | None, bool]:
    """(min, max) contribution per grant for this topic, and whether the field was truncated.

    A cut-short string is still searched for this topic's complete action entries.
    """
    if not raw:
        return None, None, False
    truncated = False
    actions: list[dict[str, Any]] = []
    try:
        data = json.loads(raw)
        for entries in (data.get("budgetTopicActionMap") or {}).values():
            actions.extend(entries)
    except json.JSONDecodeError:
        truncated = True
        actions = [{"action": m["action"], "minContribution": m["min"], "maxContribution": m["max"]}
                   for m in _CONTRIB.finditer(raw)]
    mine = [a for a in actions if str(a.get("action", "")).split(" ")[0] == identifier]
    if not mine:
        return None, None, truncated

    def num(v: Any) -> float | None:
        try:
            return float(v) if v not in (None, "null") else None
        except (TypeError, ValueError):
            return None

    lows = [x for x in (num(a.get("minContribution")) for a in mine) if x is not None]
    highs = [x for x in (num(a.get("maxContribution")) for a in mine) if x is not None]
    return (min(lows) if lows else None), (max(highs) if highs else None), truncated


class EuSediaSpider(ConvocaSpider):
    name = "eu_sedia"
    source_name = "EU Funding & Tenders Portal"

    def __init__(self, page_size: str | int = 100, max_pages: str | int = 50, **kwargs: Any):
        super().__init__(**kwargs)
        self.page_size = min(int(page_size), 100)  # the server caps pages at 100
        self.max_pages = int(max_pages)

    def query_parts(self) -> dict[str, Any]:
        return {
            "query": {"bool": {"must": [
                {"terms": {"type": ["1", "2", "8"]}},
                {"terms": {"status": ["31094501", "31094502"]}},
            ]}},
            "languages": ["en"],
            "sort": {"field": "sortStatus", "order": "ASC"},
        }

    def page_request(self, page: int) -> scrapy.Request:
        url = f"{API_URL}?apiKey=SEDIA&text=***&pageSize={self.page_size}&pageNumber={page}"
        return scrapy.Request(
            url, method="POST", body=multipart_body(self.query_parts()),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Accept": "application/json"},
            callback=self.parse, cb_kwargs={"page": page}, errback=self.on_error, dont_filter=True,
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.page_request(1)

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:
        try:
            data = json.loads(response.text)
        except json.JSONDecodeError as exc:
            self.bad_page(response, "invalid_json", page=page, error=exc.msg)
            return
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            self.bad_page(response, "no_results_list", page=page)
            return
        for result in data["results"]:
            item = self.parse_result(result)
            if item is not None:
                yield item
        if page == 1:
            total = int(data.get("totalResults") or 0)
            size = int(data.get("pageSize") or self.page_size) or self.page_size
            pages = min(math.ceil(total / size), self.max_pages)
            for next_page in range(2, pages + 1):
                yield self.page_request(next_page)

    def parse_result(self, result: dict[str, Any]) -> CallItem | None:
        meta = result.get("metadata") or {}
        identifier = first(meta, "identifier") or first(meta, "reference") or result.get("reference")
        if not identifier:
            self.drop_record("missing_source_id", str(result.get("summary"))[:80])
            return None
        call_type = first(meta, "type")
        title = first(meta, "title") or result.get("summary") or ""
        min_amount, max_amount, truncated = budget_for(identifier, first(meta, "budgetOverview"))
        if truncated:
            self.count("truncated/budgetOverview")
            self.logger.warning("eu_sedia %s: budgetOverview is cut short; amounts read from complete entries only", identifier)
        description = first(meta, "descriptionByte") or first(meta, "description")
        call_title = first(meta, "callTitle")
        if call_title and description:
            description = f"<p>{call_title}</p>{description}"
        reference = first(meta, "reference") or ""
        country = _COUNTRY_SUFFIX.search(reference or identifier)
        return CallItem(
            source=self.name,
            source_id=identifier,
            url=self.portal_url(identifier, call_type, result.get("url") or first(meta, "url")),
            title=title,
            description=description or call_title,
            funder=self.funder(meta, call_type),
            language=first(meta, "language") or result.get("language"),
            status=STATUS_CODES.get(first(meta, "status") or ""),
            opens_at=first(meta, "startDate"),
            deadlines=list[str | datetime](as_list(meta, "deadlineDate")),
            amount_min=min_amount,
            amount_max=max_amount,
            currency="EUR" if (min_amount or max_amount) else None,
            cooperation_type=self.cooperation_hint(call_type, title, reference),
            eligible_countries=[country.group(1)] if country else None,
            eligibility_text=first(meta, "topicConditions"),
            topics=[k for k in as_list(meta, "keywords") + as_list(meta, "tags") if k != identifier][:40],
            raw=result,
        )

    @staticmethod
    def portal_url(identifier: str, call_type: str | None, given: str | None) -> str:
        if call_type == "2":
            return given if given and "topicDetails" not in given else PORTAL_TENDER_URL.format(identifier)
        if not given or "topicDetails" in given or given.endswith(".json"):
            return PORTAL_TOPIC_URL.format(identifier)
        return given

    @staticmethod
    def funder(meta: dict[str, Any], call_type: str | None) -> str:
        programme = PROGRAMMES.get(first(meta, "frameworkProgramme") or "")
        if call_type == "2":
            return "Unión Europea – " + (programme or "Acción Exterior (EuropeAid)")
        return "Comisión Europea" + (f" – {programme}" if programme else "")

    @staticmethod
    def cooperation_hint(call_type: str | None, title: str, reference: str) -> str | None:
        if call_type in ("1", "8"):
            return "financial_non_reimbursable"
        if call_type == "2":
            text = f"{title} {reference}".lower()
            if "call for proposals" in text or "/act/" in text:
                return "financial_non_reimbursable"
            return "procurement"
        return None
