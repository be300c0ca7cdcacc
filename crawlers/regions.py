"""Places named in call texts → ISO 3166 country codes, for the "eligible countries" of a call.

Country names come from CLDR (babel) in es/en/fr/pt; regions are the UN M49 groupings (facts)
plus a few names calls use ("Sahel", "EU Member States", "Pacific Islands"), and common demonyms
("Brazilian municipalities", "municipios colombianos"). `places_in(text)` returns the codes of
every place named; `WORLDWIDE` phrases mean any country may apply.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale

from matcher.terms import TermMatcher

_M49: dict[str, str] = {
    "western_africa": "BJ BF CV CI GM GH GN GW LR ML MR NE NG SH SN SL TG",
    "eastern_africa": "BI KM DJ ER ET KE MG MW MU YT MZ RE RW SC SO SS UG TZ ZM ZW",
    "northern_africa": "DZ EG LY MA SD TN EH",
    "middle_africa": "AO CM CF TD CG CD GQ GA ST",
    "southern_africa": "BW SZ LS NA ZA",
    "eastern_asia": "CN HK MO KP JP MN KR TW",
    "southern_asia": "AF BD BT IN IR MV NP PK LK",
    "south_eastern_asia": "BN KH ID LA MY MM PH SG TH TL VN",
    "central_asia": "KZ KG TJ TM UZ",
    "western_asia": "AM AZ BH CY GE IQ IL JO KW LB OM QA SA PS SY TR AE YE",
    "southern_europe": "AL AD BA HR GI GR VA IT MT ME MK PT SM RS SI ES XK",
    "eastern_europe": "BY BG CZ HU PL MD RO RU SK UA",
    "northern_europe": "AX DK EE FO FI GG IS IE IM JE LV LT NO SJ SE GB",
    "western_europe": "AT BE FR DE LI LU MC NL CH",
    "australia_nz": "AU NZ NF",
    "melanesia": "FJ NC PG SB VU",
    "micronesia": "GU KI MH FM NR MP PW",
    "polynesia": "AS CK PF NU PN WS TK TO TV WF",
    "south_america": "AR BO BR CL CO EC FK GF GY PY PE SR UY VE",
    "central_america": "BZ CR SV GT HN MX NI PA",
    "caribbean": "AI AG AW BS BB BQ VG KY CU CW DM DO GD GP HT JM MQ MS PR BL KN LC MF VC SX TT TC VI",
    "northern_america": "BM CA GL PM US",
}


def _codes(*groups: str) -> frozenset[str]:
    return frozenset(code for g in groups for code in _M49[g].split())


_AFRICA = _codes("western_africa", "eastern_africa", "northern_africa", "middle_africa", "southern_africa")
_ASIA = _codes("eastern_asia", "southern_asia", "south_eastern_asia", "central_asia", "western_asia")
_EUROPE = _codes("southern_europe", "eastern_europe", "northern_europe", "western_europe")
_PACIFIC = _codes("melanesia", "micronesia", "polynesia")
_LATAM = _codes("south_america", "central_america", "caribbean")
_EU = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())

# Region names and demonyms as calls write them (es/en/fr/pt) → codes.
_REGIONS: dict[frozenset[str], tuple[str, ...]] = {
    _AFRICA: ("Africa", "African", "Africa's", "África", "africano*", "africana*", "Afrique", "africain*",
              "africaine*", "sub-Saharan", "subsahariana", "subsaharienne"),
    _codes("western_africa"): ("West Africa", "Western Africa", "África Occidental", "Afrique de l'Ouest",
                               "África Ocidental"),
    frozenset("BF ML MR NE TD SN".split()): ("Sahel", "sahelian", "saheliano*", "sahélien*"),
    _ASIA: ("Asia", "Asian", "Asia-Pacific", "Asie", "asiático*", "asiatique*", "Ásia"),
    _codes("southern_asia"): ("South Asia", "Southern Asia", "Asia del Sur", "Asie du Sud", "Sul da Ásia"),
    _codes("south_eastern_asia"): ("Southeast Asia", "South-East Asia", "South-Eastern Asia", "Sudeste Asiático",
                                   "Asia Sudoriental", "Asie du Sud-Est", "Sudeste Asiático"),
    _codes("central_asia"): ("Central Asia", "Asia Central", "Asie centrale", "Ásia Central"),
    _codes("western_asia"): (
        "Middle East", "Oriente Medio", "Oriente Próximo", "Moyen-Orient", "Médio Oriente", "Oriente Médio"),
    _EUROPE: ("Europe", "European", "Europa", "europeo*", "europea*", "européen*", "européenne*", "europeu*"),
    _EU: ("EU Member State*", "Member States of the European Union", "European Union", "Unión Europea",
          "Estados miembros", "Union européenne", "États membres", "União Europeia", "Estados-Membros"),
    _PACIFIC: ("Pacific Island*", "Pacific islands", "Pacific SIDS", "islas del Pacífico", "îles du Pacifique",
               "ilhas do Pacífico"),
    _codes("caribbean"): ("Caribbean", "Caribe", "caribeño*", "Caraïbes", "caribéen*", "Caraíbas"),
    _LATAM: ("Latin America", "Latin American", "América Latina", "Latinoamérica", "latinoamericano*",
             "latinoamericana*", "Amérique latine", "latino-américain*", "latino-americano*", "LAC"),
    _codes("central_america"): ("Central America", "Centroamérica", "América Central", "Amérique centrale",
                                "centroamericano*"),
    _codes("south_america"): ("South America", "Sudamérica", "Suramérica", "América del Sur", "Amérique du Sud",
                              "América do Sul", "suramericano*", "sudamericano*"),
    frozenset("BO CO EC PE".split()): ("Andean", "andino*", "andina*", "Comunidad Andina"),
    _codes("northern_america"): ("North America", "Norteamérica", "América del Norte", "Amérique du Nord"),
    frozenset({"CO"}): ("Colombian", "colombiano*", "colombiana*", "colombien*", "Antioquia", "antioqueño*",
                        "Medellín", "Valle de Aburrá", "Bogotá", "Cundinamarca", "Caribe colombiano"),
    frozenset({"BR"}): ("Brazilian", "brasileiro*", "brasileira*", "brasileño*", "brésilien*", "Amazônia Legal"),
    frozenset({"MX"}): ("Mexican", "mexicano*", "mexicana*", "mexicain*"),
    frozenset({"PE"}): ("Peruvian", "peruano*", "peruana*"),
    frozenset({"CL"}): ("Chilean", "chileno*", "chilena*"),
    frozenset({"AR"}): ("Argentine", "Argentinian", "argentino*", "argentina*"),
    frozenset({"EC"}): ("Ecuadorian", "ecuatoriano*", "ecuatoriana*"),
    frozenset({"CA"}): ("Canadian", "canadiense*", "canadien*", "Québec", "Quebec"),
    frozenset({"US"}): ("United States", "U.S.", "Estados Unidos", "États-Unis", "American cities"),
    frozenset({"HT"}): ("Haitian", "haitiano*", "haïtien*"),
    frozenset({"IN"}): ("Indian states", "Indian cities"),
}

WORLDWIDE_TERMS: tuple[str, ...] = (
    "any country", "all countries", "anywhere in the world", "worldwide", "all regions", "any region",
    "globally", "around the world", "from all over the world", "developing countries", "developing country",
    "low- and middle-income countries", "low and middle income countries", "middle-income countries",
    "LMICs", "ODA-eligible", "ODA eligible", "DAC list", "Global South",
    "cualquier país", "todos los países", "todo el mundo", "países en desarrollo", "países de ingreso medio",
    "n'importe quel pays", "tous les pays", "pays en développement", "qualquer país", "todos os países",
    "países em desenvolvimento",
)

# Country names that are also ordinary words, first names or Colombian places ("Armenia", Quindío).
_AMBIGUOUS = {"Chad", "Jersey", "Georgia", "Jordan", "Turkey", "Reunión", "Réunion", "Reunion", "Granada",
              "Guadalupe", "Santa Lucía", "Armenia", "Santa Elena", "Montserrat", "Maurice", "Man", "Martinica"}


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[TermMatcher, list[frozenset[str]], TermMatcher]:
    terms: list[str] = []
    codes: list[frozenset[str]] = []
    for lang in ("en", "es", "fr", "pt"):
        for code, name in Locale(lang).territories.items():
            if len(code) != 2 or not code.isalpha() or code in ("ZZ", "EU", "EZ", "UN", "QO"):
                continue
            if name in _AMBIGUOUS:
                continue
            terms.append(name)
            codes.append(frozenset({code}))
    for group, names in _REGIONS.items():
        for name in names:
            terms.append(name)
            codes.append(group)
    return TermMatcher(terms), codes, TermMatcher(list(WORLDWIDE_TERMS))


def places_in(text: str) -> set[str]:
    """ISO codes of every country named in `text`, directly or through a region or demonym."""
    matcher, codes, _ = _gazetteer()
    out: set[str] = set()
    for i in matcher.find(text):
        out |= codes[i]
    return out


def names_worldwide(text: str) -> bool:
    _, _, worldwide = _gazetteer()
    return bool(worldwide.find(text))


__all__ = ["WORLDWIDE_TERMS", "names_worldwide", "places_in"]
