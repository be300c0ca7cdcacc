"""ACI Medellín (Agencia de Cooperación e Inversión de Medellín y el Área Metropolitana): its
WordPress feed.

ACI mostly publishes news on alliances and visits; only the posts that announce a call
(category "Convocatorias", or a title or text inviting applications) become items. Deadline,
amount and countries come from the post text when it states them.
"""

from __future__ import annotations

import re

from crawlers.platforms.wordpress_rss import WordpressFeedSpider

_CALL = re.compile(
    r"\b(convocatorias?|post[uú]late|postulaciones|inscripciones abiertas|becas?|premios?|fondos? concursables?|"
    r"call for (?:proposals|applications)|open call|applications? (?:are )?open)\b", re.I)


class AciMedellinSpider(WordpressFeedSpider):
    name = "aci_medellin"
    source_name = "ACI Medellín"
    feeds = ("https://www.acimedellin.org/feed/",)
    language = None  # ACI posts in Spanish and English (?lang=en)
    funder = None  # ACI relays calls of other cooperants; the funder is in the text

    def wanted(self, title: str, text: str, categories: list[str]) -> bool:
        if any("convocatoria" in c.lower() for c in categories):
            return True
        return bool(_CALL.search(title)) or bool(_CALL.search(text[:600]) and "cierre" in text.lower())
