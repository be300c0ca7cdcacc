"""Grants.gov: `search2` for the listing, `fetchOpportunity` for each opportunity's synopsis.

Both are JSON POSTs without a key. Only opportunities whose eligibility admits applicants
outside the United States are kept: applicant type 25 ("Others", clarified in the
eligibility text) or 99 ("Unrestricted"), unless the text excludes foreign entities, or an
eligibility text that names foreign / international applicants. The rest are filtered, not
dropped: they are valid calls that no Colombian municipality can apply to.

Quirks: `openDate`/`closeDate` in search hits are MM/DD/YYYY; the synopsis carries
`responseDate` with a US time zone ("Apr 30, 2027 12:00:00 AM EDT"); amounts are strings,
"0" or "" when not stated; a forecast has `forecast` instead of `synopsis`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawlers.items import CallItem
from crawlers.parsing.countries import eligible_countries_from_text
from crawlers.platforms.base import ConvocaSpider

SEARCH_URL = "https://api.grants.gov/v1/api/search2"
FETCH_URL = "https://api.grants.gov/v1/api/fetchOpportunity"
DETAIL_URL = "https://www.grants.gov/search-results-detail/{}"

OTHERS, UNRESTRICTED = "25", "99"
_ADMITS_FOREIGN = re.compile(
    r"\b(foreign (?:entities|organi[sz]ations|governments?|public entities|institutions)|non-u\.?s\.?|"
    r"international organi[sz]ations|public international organi[sz]ations|outside (?:of )?the united states|"
    r"overseas|organi[sz]ations (?:based|registered) in colombia|colombian)\b", re.I)
_EXCLUDES_FOREIGN = re.compile(
    r"\b(foreign (?:entities|organi[sz]ations|applicants)[^.]{0,40}(?:not\s+|in)eligible|"
    r"(?:not\s+|in)eligible[^.]{0,40}foreign|u\.?s\.?[- ]based (?:organi[sz]ations )?only|"
    r"limited to (?:domestic|u\.?s\.?) )", re.I)
_INSTRUMENTS = {"G": "financial_non_reimbursable", "CA": "financial_non_reimbursable", "PC": "procurement"}
_US_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def us_date(value: str | None) -> str | None:
    """'04/30/2027' (month first, as Grants.gov writes it) → '2027-04-30'."""
    match = _US_DATE.match((value or "").strip())
    return f"{match[3]}-{match[1]}-{match[2]}" if match else None


def admits_foreign(codes: set[str], text: str | None) -> bool:
    text = text or ""
    if _EXCLUDES_FOREIGN.search(text):
        return False
    if codes & {OTHERS, UNRESTRICTED}:
        return True
    return bool(_ADMITS_FOREIGN.search(text))


def amount(value: Any) -> str | None:
    text = str(value or "").replace(",", "").strip()
    return text if text and text not in ("0", "none", "None") else None


class GrantsGovSpider(ConvocaSpider):
    name = "grants_gov"
    source_name = "Grants.gov"

    def __init__(self, page_size: str | int = 100, max_pages: str | int = 20, keyword: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.page_size = int(page_size)
        self.max_pages = int(max_pages)
        self.keyword = keyword

    def search_request(self, page: int) -> scrapy.Request:
        body = {"rows": self.page_size, "startRecordNum": page * self.page_size, "keyword": self.keyword,
                "oppStatuses": "forecasted|posted", "eligibilities": f"{OTHERS}|{UNRESTRICTED}"}
        return scrapy.Request(SEARCH_URL, method="POST", body=json.dumps(body, separators=(",", ":")),
                              headers={"Content-Type": "application/json", "Accept": "application/json"},
                              callback=self.parse, cb_kwargs={"page": page}, errback=self.on_error,
                              dont_filter=True)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.search_request(0)

    @staticmethod
    def _json(response: Response) -> dict[str, Any] | None:
        try:
            data = json.loads(response.text)
        except json.JSONDecodeError:
            return None
        return data if isinstance(data, dict) else None

    def parse(self, response: Response, page: int = 0) -> Iterator[Any]:
        data = self._json(response)
        hits = ((data or {}).get("data") or {}).get("oppHits")
        if data is None or not isinstance(hits, list):
            self.bad_page(response, "not_a_search_result", page=page)
            return
        if data.get("errorcode") not in (0, "0", None):
            self.bad_page(response, "api_error", message=str(data.get("msg"))[:200])
            return
        for hit in hits:
            opp_id = str(hit.get("id") or "").strip()
            if not opp_id:
                self.drop_record("missing_source_id", str(hit.get("number")))
                continue
            yield scrapy.Request(
                FETCH_URL, method="POST", body=json.dumps({"opportunityId": int(opp_id) if opp_id.isdigit() else opp_id}),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                callback=self.parse_opportunity, cb_kwargs={"hit": hit}, errback=self.on_error, dont_filter=True,
            )
        if page == 0:
            total = int(data["data"].get("hitCount") or 0)
            for next_page in range(1, min(math.ceil(total / self.page_size), self.max_pages)):
                yield self.search_request(next_page)

    def parse_opportunity(self, response: Response, hit: dict[str, Any]) -> Iterator[CallItem]:
        data = (self._json(response) or {}).get("data")
        if not isinstance(data, dict) or not (data.get("synopsis") or data.get("forecast")):
            self.bad_page(response, "not_an_opportunity", id=hit.get("id"))
            return
        item = self.parse_detail(data, hit)
        if item is not None:
            yield item

    def parse_detail(self, data: dict[str, Any], hit: dict[str, Any]) -> CallItem | None:
        forecast = data.get("synopsis") is None
        body: dict[str, Any] = (data.get("forecast") if forecast else data["synopsis"]) or {}
        opp_id = str(data.get("id") or hit.get("id"))
        codes = {str(t.get("id")) for t in body.get("applicantTypes") or [] if isinstance(t, dict)}
        eligibility = body.get("applicantEligibilityDesc") or ""
        if not admits_foreign(codes, eligibility):
            self.skip_item("not_open_to_foreign_applicants", opp_id)
            return None
        instruments = [str(i.get("id")) for i in body.get("fundingInstruments") or [] if isinstance(i, dict)]
        if forecast:
            deadline = body.get("estApplicationResponseDate") or us_date(body.get("estApplicationResponseDateStr"))
            opens = us_date(body.get("estSynopsisPostingDateStr")) or body.get("estSynopsisPostingDate")
            description = body.get("forecastDesc")
        else:
            deadline = body.get("responseDate")
            opens = body.get("postingDate")
            description = body.get("synopsisDesc")
        deadline = deadline or us_date(hit.get("closeDate"))
        categories = [str(c.get("description")) for c in body.get("fundingActivityCategories") or [] if isinstance(c, dict)]
        return CallItem(
            source=self.name,
            source_id=opp_id,
            url=DETAIL_URL.format(opp_id),
            title=data.get("opportunityTitle") or hit.get("title") or "",
            description=description,
            funder=body.get("agencyName") or hit.get("agency") or hit.get("agencyName"),
            language="en",
            status="forthcoming" if forecast else (hit.get("oppStatus") or "posted"),
            opens_at=opens or us_date(hit.get("openDate")),
            deadlines=[deadline] if deadline else [],
            amount_min=amount(body.get("awardFloor")),
            amount_max=amount(body.get("awardCeiling")) or amount(body.get("estimatedFunding")),
            currency="USD",
            cooperation_type=next((_INSTRUMENTS[i] for i in instruments if i in _INSTRUMENTS), None),
            eligible_countries=eligible_countries_from_text(eligibility),
            eligibility_text=eligibility or None,
            topics=[c for c in categories if not c.startswith("Other (see")],
            raw={"hit": hit, "opportunity": data},
        )
