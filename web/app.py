"""Build the FastAPI application: sessions, security headers, routes, Spanish error pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import event
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convoca.settings import Settings
from models.db import get_engine
from models.db import session_factory as make_session_factory
from web.deps import LoginRequired, page
from web.routes import auth, matches, overview
from web.security import session_secret

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "convoca_sesion"
SESSION_MAX_AGE = 12 * 60 * 60  # a working day; then sign in again

# No script runs on these pages at all; the policy makes an escaping slip harmless too.
SECURITY_HEADERS = [
    (b"content-security-policy",
     (b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
      b"frame-ancestors 'none'")),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]

ERROR_TEXT = {
    400: ("Solicitud no válida", "Revise los datos enviados e inténtelo de nuevo."),
    403: ("Acceso no permitido", ("Su cuenta no tiene acceso a esta página o el formulario caducó. "
                                  "Vuelva a la página anterior, recárguela e inténtelo de nuevo.")),
    404: ("Página no encontrada", "La página o la coincidencia que busca no existe."),
    405: ("Método no permitido", "Esta dirección no admite esa operación."),
}


class SecurityHeaders:
    """Pure ASGI middleware (no per-request task overhead)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Memory-mapped reads share the OS page cache across connections: list pages read many rows.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def create_app(settings: Settings, session_factory: Callable[[], Session] | None = None) -> FastAPI:
    app = FastAPI(title="Convoca", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.session_factory = session_factory or make_session_factory(settings.database_url)
    if settings.database_url.startswith("sqlite"):
        engine = get_engine(settings.database_url)
        if not event.contains(engine, "connect", _sqlite_read_pragmas):
            event.listen(engine, "connect", _sqlite_read_pragmas)

    app.include_router(auth.router)
    app.include_router(matches.router)
    app.include_router(overview.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/salud", include_in_schema=False)
    def health() -> Response:
        return PlainTextResponse("ok")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/ingresar?siguiente={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        title, text = ERROR_TEXT.get(exc.status_code, ("Error", "No se pudo completar la solicitud."))
        if exc.status_code == 403 and exc.detail == "csrf":
            text = "El formulario caducó o no proviene de esta página. Recárguela e inténtelo de nuevo."
        return page(request, "error.html.j2", {"title": title, "text": text, "status": exc.status_code},
                    status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, _exc: RequestValidationError) -> Response:
        title, text = ERROR_TEXT[400]
        return page(request, "error.html.j2", {"title": title, "text": text, "status": 400}, status_code=400)

    # Order: the session is read before the routes, the headers are added to every response.
    app.add_middleware(SessionMiddleware, secret_key=session_secret(settings), session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE, same_site="lax", https_only=settings.base_url.startswith("https://"))
    app.add_middleware(SecurityHeaders)
    return app
