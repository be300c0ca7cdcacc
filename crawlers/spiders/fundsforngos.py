"""fundsforNGOs: the WordPress feeds of its Colombia and Latin America archives.

Every post announces one call of some donor; the post states the deadline on its first line
("Deadline: 26-Feb-2027"), often the grant size and the eligible countries. The same post
appears in both feeds: the dedupe stage keeps one. Posts flagged Premium hide their text;
they still carry title, link and deadline. Only the link and a summary are kept from the
aggregator's text (its posts are copyrighted).
"""

from __future__ import annotations

from crawlers.platforms.wordpress_rss import WordpressFeedSpider


class FundsforngosSpider(WordpressFeedSpider):
    name = "fundsforngos"
    source_name = "fundsforNGOs (Colombia y América Latina)"
    feeds = (
        "https://www2.fundsforngos.org/tag/colombia/feed/",
        "https://www2.fundsforngos.org/category/latin-america-and-the-caribbean/feed/",
    )
    language = "en"
