"""Request dependencies: the database session, the signed-in user, municipality access, CSRF, pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from convoca.settings import Settings
from models import Municipality, User
from notifier.digest import today_in_bogota
from web.render import render
from web.security import csrf_matches, new_csrf_token


class LoginRequired(Exception):
    """No valid session: the handler sends the browser to the sign-in page."""


def get_db(request: Request) -> Iterator[Session]:
    session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()


Db = Annotated[Session, Depends(get_db)]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def today() -> date:
    return today_in_bogota(datetime.now(UTC))


def current_user(request: Request, db: Db) -> User:
    uid = request.session.get("uid")
    user = None
    if isinstance(uid, int):
        user = db.scalars(select(User).options(joinedload(User.municipality)).where(User.id == uid)).first()
    if user is None or not user.active:
        # A disabled account loses its open sessions at the next request.
        request.session.pop("uid", None)
        raise LoginRequired()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def municipality_for(slug: str, user: CurrentUser, db: Db) -> Municipality:
    municipality = db.scalars(
        select(Municipality).options(selectinload(Municipality.profiles)).where(Municipality.slug == slug)
    ).first()
    if municipality is None:
        raise HTTPException(404)
    if not can_view(user, municipality):
        raise HTTPException(403)
    return municipality


VisibleMunicipality = Annotated[Municipality, Depends(municipality_for)]


def can_view(user: User, municipality: Municipality) -> bool:
    return user.is_amva or user.municipality_id == municipality.id


def can_act(user: User, municipality: Municipality) -> bool:
    """Only the municipality's own team rates its matches (AMVA reads the others')."""
    return user.municipality_id == municipality.id


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


def require_csrf(request: Request, given: str | None) -> None:
    if not csrf_matches(request.session.get("csrf"), given):
        raise HTTPException(403, detail="csrf")


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session.setdefault("flash", []).append({"text": text, "kind": kind})
    request.session["flash"] = request.session["flash"]  # mark modified


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site: never another host (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target and "\n" not in target:
        return target
    return fallback


def page(request: Request, template: str, context: dict[str, Any], *, status_code: int = 200,
         user: User | None = None, municipalities: list[Municipality] | None = None,
         headers: dict[str, str] | None = None) -> HTMLResponse:
    messages = request.session.pop("flash", []) if "flash" in request.session else []
    html = render(template, {
        **context,
        "user": user,
        "csrf_token": csrf_token(request),
        "flash": messages,
        "switch_municipalities": municipalities or [],
        "request_path": request.url.path,
        "current_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    })
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store", **(headers or {})})


def all_municipalities(db: Session) -> list[Municipality]:
    return list(db.scalars(select(Municipality).order_by(Municipality.is_metropolitan.desc(), Municipality.name)))
