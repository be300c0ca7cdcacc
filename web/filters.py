"""The match list's filters, read leniently from the query string.

A bad value never fails the page: it is dropped and reported, and the rest of the filters apply.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from convoca.sdg_codes import ALL_TARGETS
from convoca.vocab import COOPERATION_TYPES, LANGUAGES

MATCH_STATUSES = ("new", "reviewed", "applying", "dismissed")
# "activas" hides dismissed matches; "todas" shows every status.
STATUS_CHOICES = ("activas", "todas", *MATCH_STATUSES)
SORTS = ("puntaje", "cierre")
DEADLINE_WINDOWS = (14, 30, 60, 90, 180, 365)
PAGE_SIZE = 25
PAGE_SIZES = (10, 25, 50, 100)
MAX_EXPORT_ROWS = 5000
_GOAL_RE = re.compile(r"(?:[1-9]|1[0-7])")


@dataclass(frozen=True)
class MatchFilters:
    profile: str | None = None
    sdg: str | None = None
    cooperation_type: str | None = None
    within_days: int | None = None
    min_score: float | None = None
    language: str | None = None
    status: str = "activas"
    sort: str = "puntaje"
    include_expired: bool = False
    page: int = 1
    page_size: int = PAGE_SIZE
    errors: tuple[str, ...] = field(default=(), compare=False)

    def query(self, **override: object) -> str:
        """The query string of these filters (page 1 unless given), for links and exports."""
        f = replace(self, **{"page": 1, **override})  # type: ignore[arg-type]
        pairs: list[tuple[str, str]] = []
        if f.profile:
            pairs.append(("perfil", f.profile))
        if f.sdg:
            pairs.append(("ods", f.sdg))
        if f.cooperation_type:
            pairs.append(("tipo", f.cooperation_type))
        if f.within_days is not None:
            pairs.append(("cierre", str(f.within_days)))
        # An empty "puntaje" means "no minimum"; an absent one means the municipality's default.
        pairs.append(("puntaje", "" if f.min_score is None else f"{f.min_score:g}"))
        if f.language:
            pairs.append(("idioma", f.language))
        if f.status != "activas":
            pairs.append(("estado", f.status))
        if f.sort != "puntaje":
            pairs.append(("orden", f.sort))
        if f.include_expired:
            pairs.append(("vencidas", "1"))
        if f.page_size != PAGE_SIZE:
            pairs.append(("por_pagina", str(f.page_size)))
        if f.page > 1:
            pairs.append(("pagina", str(f.page)))
        return urlencode(pairs)


def _int(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        return None


def parse_filters(params: Mapping[str, str], *, default_min_score: float, profiles: set[str]) -> MatchFilters:
    errors: list[str] = []

    def pick(name: str) -> str:
        return (params.get(name) or "").strip()

    profile = pick("perfil") or None
    if profile is not None and profile not in profiles:
        errors.append("El perfil indicado no existe; se muestran todos.")
        profile = None

    sdg = pick("ods") or None
    if sdg is not None and not (_GOAL_RE.fullmatch(sdg) or sdg in ALL_TARGETS):
        errors.append(f"«{sdg}» no es un ODS ni una meta (ejemplos: 11 o 11.2).")
        sdg = None

    ctype = pick("tipo") or None
    if ctype is not None and ctype not in COOPERATION_TYPES:
        errors.append("Tipo de cooperación desconocido; se muestran todos.")
        ctype = None

    within: int | None = None
    if pick("cierre"):
        within = _int(pick("cierre"))
        if within is None or not 0 <= within <= 3650:
            errors.append("La ventana de cierre debe ser un número de días.")
            within = None

    min_score: float | None = default_min_score
    raw_score = pick("puntaje")
    if "puntaje" in params:
        if raw_score == "":
            min_score = None
        else:
            try:
                min_score = float(raw_score.replace(",", "."))
                if not 0 <= min_score <= 100:
                    raise ValueError
            except ValueError:
                errors.append("El puntaje mínimo debe estar entre 0 y 100.")
                min_score = default_min_score

    language = pick("idioma") or None
    if language is not None and language not in LANGUAGES:
        errors.append("Idioma desconocido; se muestran todos.")
        language = None

    status = pick("estado") or "activas"
    if status not in STATUS_CHOICES:
        errors.append("Estado desconocido; se muestran las activas.")
        status = "activas"

    sort = pick("orden") or "puntaje"
    if sort not in SORTS:
        sort = "puntaje"

    page = _int(pick("pagina") or "1") or 1
    page_size = _int(pick("por_pagina") or "") or PAGE_SIZE
    if page_size not in PAGE_SIZES:
        page_size = PAGE_SIZE
    return MatchFilters(profile=profile, sdg=sdg, cooperation_type=ctype, within_days=within, min_score=min_score,
                        language=language, status=status, sort=sort, include_expired=pick("vencidas") == "1",
                        page=max(1, min(page, 100_000)), page_size=page_size, errors=tuple(errors))
