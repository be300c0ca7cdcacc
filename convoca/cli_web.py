"""`convoca serve` and `convoca users add|list|disable|enable|unlock`."""

from __future__ import annotations

import socket
import sys
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from convoca.errors import ConvocaError
from convoca.settings import Settings

users_app = typer.Typer(help="Cuentas de la página web.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _fail(exc: ConvocaError) -> None:
    err.print(f"[bold red]Error:[/] {exc}", markup=True, highlight=False)
    raise typer.Exit(1)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Contraseña", hide_input=True, confirmation_prompt="Repita la contraseña")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Nombre de usuario (p. ej. un correo).")],
    municipio: Annotated[str, typer.Option("--municipio", "-m", help="Municipio de la cuenta (slug); 'amva' ve todos.")],
    nombre: Annotated[str | None, typer.Option(help="Nombre para mostrar.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Leer la contraseña de la entrada estándar.")] = False,
) -> None:
    """Crea una cuenta de un municipio (las del AMVA ven todos los municipios)."""
    from convoca.cycle import sync_configs
    from models.db import session_scope
    from web.accounts import add_user

    settings = Settings()
    password = _read_password(password_stdin)
    try:
        with session_scope(settings.database_url) as session:
            sync_configs(session, settings)  # the municipalities must exist, even in a fresh database
            user = add_user(session, username, password, municipio, nombre)
            scope = "todos los municipios (AMVA)" if user.is_amva else user.municipality.name
            name = user.username
    except ConvocaError as exc:
        _fail(exc)
    console.print(f"Cuenta '{name}' creada; ve {scope}.")


@users_app.command("list")
def users_list() -> None:
    """Lista las cuentas."""
    from models.db import session_scope
    from web.accounts import list_users

    settings = Settings()
    with session_scope(settings.database_url) as session:
        rows = list_users(session)
    table = Table(title="Cuentas")
    table.add_column("Usuario", no_wrap=True)
    for col in ("Nombre", "Municipio", "Alcance", "Activa", "Último ingreso (UTC)", "Bloqueada hasta (UTC)"):
        table.add_column(col, overflow="fold")
    for r in rows:
        last = r.last_login_at.strftime("%Y-%m-%d %H:%M") if isinstance(r.last_login_at, datetime) else "—"
        locked = r.locked_until.strftime("%Y-%m-%d %H:%M") if isinstance(r.locked_until, datetime) else "—"
        table.add_row(r.username, r.display_name or "", r.municipality_name,
                      "todos los municipios" if r.is_amva else "su municipio", "sí" if r.active else "no", last,
                      locked)
    console.print(table)


def _set_active(username: str, active: bool) -> None:
    from models.db import session_scope
    from web.accounts import set_active

    settings = Settings()
    try:
        with session_scope(settings.database_url) as session:
            set_active(session, username, active)
    except ConvocaError as exc:
        _fail(exc)
    console.print(f"Cuenta '{username}' {'activada' if active else 'desactivada'}.")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="Usuario a desactivar.")]) -> None:
    """Desactiva una cuenta; sus sesiones abiertas terminan en la siguiente petición."""
    _set_active(username, False)


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(help="Usuario a reactivar.")]) -> None:
    """Reactiva una cuenta desactivada."""
    _set_active(username, True)


@users_app.command("unlock")
def users_unlock(username: Annotated[str, typer.Argument(help="Usuario a desbloquear.")]) -> None:
    """Levanta el bloqueo por intentos fallidos de ingreso (también sirve para nombres que no existen)."""
    from models.db import session_scope
    from web.accounts import unlock

    settings = Settings()
    with session_scope(settings.database_url) as session:
        lifted = unlock(session, username)
    console.print(f"Bloqueo de '{username}' levantado." if lifted else f"'{username}' no tenía intentos fallidos.")


def serve(
    host: Annotated[str | None, typer.Option(help="Dirección; por defecto CONVOCA_WEB_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Puerto (0 = uno libre); por defecto CONVOCA_WEB_PORT.")] = None,
) -> None:
    """Inicia la página web de coincidencias (uvicorn)."""
    import uvicorn

    from web.app import create_app

    settings = Settings()
    bind_host = host or settings.web_host
    bind_port = settings.web_port if port is None else port
    # Bind here so port 0 works and the real address is printed before serving.
    family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets that say so, and without it
    # keep-alive responses stall ~40 ms on Nagle and delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bind_host, bind_port))
    except OSError as exc:
        err.print(f"[bold red]Error:[/] no se puede escuchar en {bind_host}:{bind_port}: {exc}", highlight=False)
        raise typer.Exit(2) from exc
    # Listening before uvicorn starts: a client that connects right after the printed line waits in the backlog.
    sock.listen(2048)
    actual_port = sock.getsockname()[1]
    app = create_app(settings)
    shown_host = f"[{bind_host}]" if family == socket.AF_INET6 else bind_host
    print(f"Convoca en http://{shown_host}:{actual_port}/ (Ctrl+C para detener)", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, proxy_headers=True)
    uvicorn.Server(config).run(sockets=[sock])


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)
