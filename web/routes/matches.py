"""The match list, the detail page, feedback and exports of one municipality."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from convoca.settings import Settings
from convoca.vocab import COOPERATION_TYPES, LANGUAGES
from models import Municipality
from web import exports
from web.deps import (
    CurrentUser,
    Db,
    VisibleMunicipality,
    all_municipalities,
    can_act,
    flash,
    get_settings,
    page,
    require_csrf,
    safe_next,
    today,
)
from web.feedback import FeedbackError, record_feedback
from web.filters import (
    DEADLINE_WINDOWS,
    MAX_EXPORT_ROWS,
    PAGE_SIZES,
    STATUS_CHOICES,
    MatchFilters,
    parse_filters,
)
from web.matches import export_rows, get_match, list_matches, match_detail, sdg_choices
from web.present import VERDICT_LABELS
from web.routes.auth import home_of

router = APIRouter()


def _filters(request: Request, municipality: Municipality) -> MatchFilters:
    defaults = municipality.config.get("defaults", {}) if municipality.config else {}
    return parse_filters(request.query_params, default_min_score=float(defaults.get("min_score", 55)),
                         profiles={p.slug for p in municipality.profiles if p.active})


@router.get("/")
def home(user: CurrentUser) -> Response:
    return RedirectResponse(home_of(user.municipality.slug, user.is_amva), status_code=303)


@router.get("/ir")
def switch(user: CurrentUser, m: str = "") -> Response:
    """The AMVA municipality selector (a plain GET form, no script)."""
    slug = m if m.replace("-", "").isalnum() else user.municipality.slug
    return RedirectResponse(f"/m/{slug}/coincidencias", status_code=303)


@router.get("/m/{slug}/coincidencias", response_class=HTMLResponse)
def match_list(request: Request, db: Db, user: CurrentUser, municipality: VisibleMunicipality) -> Response:
    filters = _filters(request, municipality)
    result = list_matches(db, municipality, filters, today())
    context = {
        "municipality": municipality,
        "filters": filters,
        "result": result,
        "profiles": [p for p in municipality.profiles if p.active],
        "sdg_targets": sdg_choices(municipality),
        "sdg_goals": list(range(1, 18)),
        "cooperation_types": COOPERATION_TYPES,
        "languages": LANGUAGES,
        "statuses": STATUS_CHOICES,
        "windows": DEADLINE_WINDOWS,
        "page_sizes": PAGE_SIZES,
        "can_act": can_act(user, municipality),
        "list_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "today": today(),
    }
    return page(request, "list.html.j2", context, user=user,
                municipalities=all_municipalities(db) if user.is_amva else None)


@router.get("/m/{slug}/coincidencias.{fmt}")
def export(request: Request, db: Db, user: CurrentUser, municipality: VisibleMunicipality,
           fmt: Literal["csv", "xlsx", "ics"], settings: Annotated[Settings, Depends(get_settings)]) -> Response:
    filters = _filters(request, municipality)
    rows = export_rows(db, municipality, filters, today(), MAX_EXPORT_ROWS)
    name = f"convoca-{municipality.slug}-{today().isoformat()}"
    if fmt == "csv":
        body, media = exports.to_csv(rows, municipality, settings.base_url, today()), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = exports.to_xlsx(rows, municipality, settings.base_url, today())
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, media = exports.to_ics(rows, municipality, settings.base_url), "text/calendar; charset=utf-8"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"})


@router.get("/m/{slug}/coincidencias/{match_id:int}", response_class=HTMLResponse)
def detail(request: Request, db: Db, user: CurrentUser, municipality: VisibleMunicipality, match_id: int) -> Response:
    data = match_detail(db, municipality, match_id)
    if data is None:
        raise HTTPException(404)
    context = {
        "municipality": municipality,
        "d": data,
        "can_act": can_act(user, municipality),
        "today": today(),
        "back_url": safe_next(request.query_params.get("volver"), f"/m/{municipality.slug}/coincidencias"),
    }
    return page(request, "detail.html.j2", context, user=user,
                municipalities=all_municipalities(db) if user.is_amva else None)


@router.post("/m/{slug}/coincidencias/{match_id:int}/opinion")
def feedback(
    request: Request,
    db: Db,
    user: CurrentUser,
    municipality: VisibleMunicipality,
    match_id: int,
    verdict: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    siguiente: Annotated[str, Form()] = "",
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    require_csrf(request, csrf_token_field)
    if not can_act(user, municipality):
        raise HTTPException(403)
    match = get_match(db, municipality, match_id)
    if match is None:
        raise HTTPException(404)
    target = safe_next(siguiente, f"/m/{municipality.slug}/coincidencias/{match_id}")
    try:
        record_feedback(db, match, user.username, verdict, reason or None, note)
    except FeedbackError as exc:
        db.rollback()
        flash(request, str(exc), "error")
        return RedirectResponse(target, status_code=303)
    db.commit()
    flash(request, f"Calificación guardada: {VERDICT_LABELS[verdict]}.")
    return RedirectResponse(target, status_code=303)
