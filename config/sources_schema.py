"""Pydantic schema of config/sources.yaml: the page-watch sources (DESIGN.md §4).

One entry per watched page: where the listing is, and optionally how to read it (CSS or
XPath selectors). An entry without selectors is read by the generic extractor. An operator
adds or mends a source by editing this file only; `convoca config check` validates it with
the same messages as the municipality files (file, line, field, fix).

A selector is XPath when it starts with "/", "./" or "(", otherwise CSS (Scrapy's dialect,
with ::text and ::attr(name)).
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from convoca.vocab import ApplicantType, CooperationType, Language

SOURCE_SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


def is_xpath(selector: str) -> bool:
    return selector.startswith(("/", "./", "("))


def check_selector(selector: str) -> str:
    """The selector itself when it compiles; a ValueError that says what is wrong otherwise."""
    from cssselect import SelectorError
    from lxml import etree
    from parsel.csstranslator import HTMLTranslator

    text = selector.strip()
    if not text:
        raise ValueError("empty selector; write a CSS selector such as 'div.card' or an XPath such as '//li'")
    try:
        etree.XPath(text if is_xpath(text) else HTMLTranslator().css_to_xpath(text))
    except (SelectorError, etree.XPathSyntaxError) as exc:
        kind = "XPath" if is_xpath(text) else "CSS"
        raise ValueError(f"'{text}' is not a valid {kind} selector ({exc}); check brackets and quotes") from None
    return text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class ListingSelectors(_Strict):
    item: str = Field(description="selector of each call on the listing page, e.g. 'div.views-row' or '//article'")
    title: str | None = Field(None, description="selector of the title inside an item; default: the link's text")
    link: str | None = Field(None, description="selector of the link inside an item, e.g. 'h3 a' or 'a::attr(href)'; "
                                               "default: the item's first link")
    date: str | None = Field(None, description="selector of the publication date inside an item")
    deadline: str | None = Field(None, description="selector of the closing date inside an item")
    amount: str | None = Field(None, description="selector of the amount inside an item")
    description: str | None = Field(None, description="selector of the summary inside an item")
    next_page: str | None = Field(None, description="selector of the link to the next listing page, e.g. 'li.pager-next a'")

    @field_validator("*")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        return None if v is None else check_selector(v)


class DetailSelectors(_Strict):
    title: str | None = Field(None, description="selector of the title on the call's own page")
    description: str | None = Field(None, description="selector of the call's text on its own page")
    deadline: str | None = Field(None, description="selector of the closing date on the call's own page")
    amount: str | None = Field(None, description="selector of the amount on the call's own page")
    eligibility: str | None = Field(None, description="selector of who may apply, on the call's own page")

    @field_validator("*")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        return None if v is None else check_selector(v)


class PageWatchSource(_Strict):
    slug: str = Field(description="identifier of the source: lowercase letters, digits and _, e.g. 'idb_lab'")
    name: str = Field(min_length=2, description="the source's name as people know it, e.g. 'BID Lab – convocatorias'")
    funder: str = Field(min_length=2, description="the organisation that funds the calls, e.g. 'BID Lab'")
    url: str = Field(description="the listing page, a full http(s) URL")
    enabled: bool = Field(True, description="true or false; a disabled source is not crawled")
    language: Language | None = Field(None, description="language of the page if fixed: es, en, fr or pt")
    timezone: str = Field("America/Bogota", description="IANA time zone of dates without one, e.g. 'Europe/Madrid'")
    currency: str | None = Field(None, description="ISO 4217 code of amounts written without one, e.g. USD")
    cooperation_type: CooperationType | None = Field(
        None, description="type of every call of this source, if fixed: technical, financial_non_reimbursable, "
        "financial_reimbursable, scholarship_exchange, award_contest, humanitarian, procurement, other")
    eligible_countries: list[str] | None = Field(
        None, description="ISO 3166-1 alpha-2 codes (e.g. [CO]) when the source only publishes calls for them")
    eligible_applicants: list[ApplicantType] | None = Field(
        None, description="applicant types if fixed: local_government, national_government, public_entity, ngo, "
        "academia, private, individual, consortium")
    selectors: ListingSelectors | None = Field(
        None, description="how to read the listing {item, title, link, date, deadline, amount, description, "
        "next_page}; leave it out to use the generic extractor")
    detail: DetailSelectors | None = Field(
        None, description="follow each call's link and read {title, description, deadline, amount, eligibility}")
    keywords: list[str] | None = Field(
        None, description="for the generic extractor: words a link must contain to count as a call "
        "(default: convocatoria, call, grant, beca, premio, …)")
    max_pages: int = Field(3, ge=1, le=50, description="listing pages followed at most, 1–50")

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SOURCE_SLUG_RE.fullmatch(v):
            raise ValueError(f"'{v}' is not a source slug; use lowercase letters, digits and _ (e.g. 'idb_lab')")
        return v

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+\.[^\s/]+(/\S*)?", v):
            raise ValueError(f"'{v}' is not a full URL; write it as https://host/path")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{v}' is not an IANA time zone; use a name such as America/Bogota") from None
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError(f"'{v}' is not an ISO 4217 currency code; use three capitals such as USD, EUR")
        return v

    @field_validator("eligible_countries")
    @classmethod
    def _countries(cls, v: list[str] | None) -> list[str] | None:
        for code in v or []:
            if code != "*" and not re.fullmatch(r"[A-Z]{2}", code):
                raise ValueError(f"'{code}' is not an ISO 3166-1 alpha-2 code; use two capitals such as CO")
        return v


class SourcesConfig(_Strict):
    page_watch: list[PageWatchSource] = Field(
        default_factory=list, description="a list of watched pages, each {slug, name, funder, url, …}")

    @model_validator(mode="after")
    def _unique(self) -> SourcesConfig:
        seen: set[str] = set()
        for entry in self.page_watch:
            if entry.slug in seen:
                raise ValueError(f"source slug '{entry.slug}' appears twice; give each source its own slug")
            seen.add(entry.slug)
        return self

    def enabled(self) -> list[PageWatchSource]:
        return [e for e in self.page_watch if e.enabled]
