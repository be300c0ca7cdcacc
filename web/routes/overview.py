"""The AMVA overview page (AMVA accounts only)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from web.deps import CurrentUser, Db, all_municipalities, page, today
from web.overview import amva_overview

router = APIRouter()


@router.get("/amva", response_class=HTMLResponse)
def overview(request: Request, db: Db, user: CurrentUser) -> Response:
    if not user.is_amva:
        raise HTTPException(403)
    data = amva_overview(db, today())
    return page(request, "overview.html.j2", {"o": data, "today": today()}, user=user,
                municipalities=all_municipalities(db))
