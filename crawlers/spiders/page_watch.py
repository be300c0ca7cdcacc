"""Watched pages of funders without a feed or an API, configured in config/sources.yaml.

IDB Lab, CAF, Green Climate Fund, GEF Small Grants, AECID, GIZ, KOICA, JICA, Fondo Colombia
Sostenible, C40, ICLEI, UN-Habitat, Bloomberg Philanthropies, Gobernación de Antioquia…:
each is one YAML entry; the spider and its generic extractor live in
crawlers/platforms/page_watch.py. `entries=slug1,slug2` crawls only those.
"""

from __future__ import annotations

from crawlers.platforms.page_watch import PageWatchBase


class PageWatchSpider(PageWatchBase):
    name = "page_watch"
    source_name = "Páginas vigiladas (config/sources.yaml)"
