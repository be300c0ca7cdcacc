"""WordPress RSS 2.0 feeds: the base of the fundsforNGOs and ACI Medellín spiders.

A WordPress feed lists the newest posts (10 by default); `?paged=N` gives older ones and a
page past the end answers 404. Each <item> has title, link, pubDate, dc:creator, categories,
guid ("https://host/?p=123", the stable id), description (an excerpt) and often
content:encoded (the post). Deadline, amount and eligible countries are not fields: they are
read from the post text when it states them ("Deadline: 26-Feb-2027").
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.selector import Selector

from crawlers.items import CallItem
from crawlers.parsing.countries import eligible_countries_from_text
from crawlers.parsing.dates import find_deadlines
from crawlers.parsing.html import html_to_text
from crawlers.parsing.money import amount_sentences
from crawlers.platforms.base import ConvocaSpider

NAMESPACES = {"content": "http://purl.org/rss/1.0/modules/content/", "dc": "http://purl.org/dc/elements/1.1/"}
# WordPress appends "The post <title> appeared first on <site>." to excerpts and content.
_BOILERPLATE = re.compile(r"(?:<p>)?The post .{0,600}? appeared first on .{0,300}?\.?(?:</p>)?\s*$", re.S)


def post_id(guid: str | None, link: str) -> str:
    """WordPress's numeric post id from the guid ('…/?p=123456'), else the link."""
    if guid:
        values = parse_qs(urlsplit(guid).query).get("p")
        if values and values[0].isdigit():
            return values[0]
    return (guid or link).strip()


class WordpressFeedSpider(ConvocaSpider):
    """Subclasses set `feeds` (feed URLs) and may override `wanted` and `hints`."""

    feeds: tuple[str, ...] = ()
    language: str | None = None
    funder: str | None = None

    def __init__(self, max_pages: str | int = 5, per_page: str | int = 10, **kwargs: Any):
        super().__init__(**kwargs)
        self.max_pages = int(max_pages)
        self.per_page = int(per_page)

    def feed_request(self, feed: str, page: int) -> scrapy.Request:
        url = feed if page == 1 else f"{feed}?paged={page}"
        return scrapy.Request(url, callback=self.parse, cb_kwargs={"feed": feed, "page": page},
                              errback=self.on_error, meta={"optional": page > 1})

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for feed in self.feeds:
            yield self.feed_request(feed, 1)

    def parse(self, response: Response, feed: str = "", page: int = 1) -> Iterator[Any]:
        text = response.text
        selector = Selector(text=text, type="xml")
        for prefix, uri in NAMESPACES.items():
            selector.register_namespace(prefix, uri)
        if not selector.xpath("/rss/channel"):
            self.bad_page(response, "not_an_rss_feed", feed=feed, page=page)
            return
        truncated = not text.rstrip().endswith("</rss>")
        if truncated:
            # lxml recovers what it can; the complete posts are still good.
            self.bad_page(response, "truncated_feed", feed=feed, page=page)
        posts = selector.xpath("/rss/channel/item")
        for post in posts:
            item = self.parse_post(post)
            if item is not None:
                yield item
        if len(posts) >= self.per_page and page < self.max_pages and not truncated:
            yield self.feed_request(feed, page + 1)

    def parse_post(self, post: Selector) -> CallItem | None:
        title = post.xpath("normalize-space(title)").get() or ""
        link = (post.xpath("normalize-space(link)").get() or "").strip()
        if not link:
            self.drop_record("missing_link", title[:80])
            return None
        content = post.xpath("content:encoded/text()").get() or ""
        excerpt = post.xpath("description/text()").get() or ""
        body = _BOILERPLATE.sub("", content or excerpt).strip()
        plain = html_to_text(body) or ""
        categories = [c.strip() for c in post.xpath("category/text()").getall() if c.strip()]
        if not self.wanted(title, plain, categories):
            self.skip_item("not_a_call", link)
            return None
        return CallItem(
            source=self.name,
            source_id=post_id(post.xpath("normalize-space(guid)").get(), link),
            url=link,
            title=title,
            description=body,
            summary=html_to_text(_BOILERPLATE.sub("", excerpt)) if excerpt else None,
            funder=self.funder,
            language=self.language,
            opens_at=post.xpath("normalize-space(pubDate)").get() or None,
            deadlines=list(find_deadlines(f"{title}\n{plain}")),
            amount_text=amount_sentences(plain),
            eligible_countries=eligible_countries_from_text(plain),
            eligibility_text=plain or None,
            topics=categories,
            raw={"title": title, "link": link, "categories": categories,
                 "pubDate": post.xpath("normalize-space(pubDate)").get(),
                 "creator": post.xpath("normalize-space(dc:creator)").get()},
        )

    def wanted(self, title: str, text: str, categories: list[str]) -> bool:
        return True
