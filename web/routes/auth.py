"""Sign-in and sign-out."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web.accounts import SignInLocked, authenticate
from web.deps import Db, csrf_token, page, require_csrf, safe_next
from web.security import new_csrf_token

router = APIRouter()


def home_of(slug: str, is_amva: bool) -> str:
    return "/amva" if is_amva else f"/m/{slug}/coincidencias"


@router.get("/ingresar", response_class=HTMLResponse)
def login_form(request: Request, siguiente: str = "") -> Response:
    return page(request, "login.html.j2", {"next": safe_next(siguiente, ""), "username": "", "error": None})


@router.post("/ingresar", response_class=HTMLResponse)
def login(
    request: Request,
    db: Db,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
    siguiente: Annotated[str, Form()] = "",
) -> Response:
    require_csrf(request, csrf_token_field)
    context = {"next": safe_next(siguiente, ""), "username": username[:200]}
    try:
        user = authenticate(db, username[:200], password[:1000])
    except SignInLocked as locked:
        minutes = max(1, math.ceil((locked.until - datetime.now(UTC)).total_seconds() / 60))
        context["error"] = (f"Demasiados intentos fallidos con este usuario. Intente de nuevo en {minutes} "
                            f"minuto{'s' if minutes != 1 else ''}, o pida al administrador que lo desbloquee.")
        return page(request, "login.html.j2", context, status_code=429,
                    headers={"Retry-After": str(minutes * 60)})
    db.commit()  # the failure count too: it must outlive this request
    if user is None:
        context["error"] = "Usuario o contraseña incorrectos, o cuenta desactivada."
        return page(request, "login.html.j2", context, status_code=401)
    # A fresh session on sign-in: nothing from before it survives (no session fixation).
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = new_csrf_token()
    target = safe_next(siguiente, home_of(user.municipality.slug, user.is_amva))
    return RedirectResponse(target, status_code=303)


@router.post("/salir")
def logout(request: Request, csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "") -> Response:
    require_csrf(request, csrf_token_field)
    request.session.clear()
    request.session["flash"] = [{"text": "Sesión cerrada.", "kind": "ok"}]
    csrf_token(request)
    return RedirectResponse("/ingresar", status_code=303)
