"""Country names in running text (Spanish or English) to ISO 3166-1 alpha-2 codes.

Names come from Babel's CLDR territory tables, so 'Colombia', 'Perú', 'Brazil' and 'Brasil'
all resolve without a hand-kept list. Regions that stand for many countries ('Latin America',
'América Latina') are expanded only when a source states them as eligibility.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

LATIN_AMERICA = ("AR", "BO", "BR", "CL", "CO", "CR", "CU", "DO", "EC", "SV", "GT", "HN", "MX", "NI", "PA",
                 "PY", "PE", "UY", "VE")
_REGIONS = {
    "latin america": LATIN_AMERICA, "america latina": LATIN_AMERICA, "latinoamerica": LATIN_AMERICA,
    "latin america and the caribbean": LATIN_AMERICA, "america latina y el caribe": LATIN_AMERICA,
    "lac region": LATIN_AMERICA,
}
_WORLDWIDE = re.compile(r"\b(all countries|worldwide|any country|todos los pa[ií]ses|global call)\b", re.I)
# Names that are also common words or that mislead in funding texts.
_SKIP = {"georgia", "jordan", "chad", "guinea", "niger", "turkey", "oman", "mali", "togo", "cuba"}


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


@lru_cache(maxsize=1)
def _names() -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    from babel import Locale

    table: dict[str, tuple[str, ...]] = dict(_REGIONS)
    for lang in ("en", "es"):
        for code, name in Locale(lang).territories.items():
            if len(code) == 2 and code.isalpha() and code not in ("EU", "UN", "EZ", "ZZ", "QO"):
                folded = _fold(name)
                if folded not in _SKIP:
                    table.setdefault(folded, (code,))
    names = sorted(table, key=len, reverse=True)
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")
    return pattern, table


def find_countries(text: str | None) -> list[str] | None:
    """ISO codes of the countries named in `text`, in order; ['*'] for a worldwide call; None if none."""
    if not text:
        return None
    if _WORLDWIDE.search(text):
        return ["*"]
    pattern, table = _names()
    found: list[str] = []
    for match in pattern.finditer(_fold(text)):
        for code in table[match.group(1)]:
            if code not in found:
                found.append(code)
    return found or None


_ELIGIBLE_CUE = re.compile(
    r"(eligible countries|countries eligible|country(?:ies)? of implementation|open to (?:organi[sz]ations )?(?:from|in|based in)|"
    r"pa[ií]ses elegibles|dirigid[ao] a (?:organizaciones )?(?:de|en)|pa[ií]s(?:es)?:|focus countr(?:y|ies)|"
    r"geographic(?:al)? (?:focus|scope)|[aá]mbito geogr[aá]fico)[^.\n]{0,300}",
    re.IGNORECASE,
)


def eligible_countries_from_text(text: str | None) -> list[str] | None:
    """Countries a post states as eligible ('Eligible Countries: Colombia, Peru'); None when not stated."""
    if not text:
        return None
    found: list[str] = []
    for cue in _ELIGIBLE_CUE.finditer(text):
        for code in find_countries(cue.group(0)) or []:
            if code not in found:
                found.append(code)
    if "*" in found:
        return ["*"]
    return found or None
