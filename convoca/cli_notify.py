"""Notifier commands: `digest` (--preview / --send / --status), `reminders`, `cycle`, `scheduler`.

Each parses arguments, builds settings and a session, calls one service function, and maps
domain errors to exit codes (0 ok, 1 failure, 2 usage or config).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from convoca.errors import ConfigError, ConvocaError
from convoca.settings import Settings
from notifier.formatting import BOGOTA

console = Console()
err = Console(stderr=True)

STATUS_ES = {"pending": "pendiente", "sending": "enviando", "sent": "enviado",
             "failed": "falló (se reintentará)", "rejected": "rechazado", "deferred": "aplazado (servidor caído)",
             "in_progress": "en curso en otro proceso"}
KIND_ES = {"digest": "boletín", "reminder": "recordatorio", "health": "alerta de fuentes"}


def _fail(exc: ConvocaError) -> None:
    err.print(f"[bold red]Error:[/] {exc}", markup=True, highlight=False)
    raise typer.Exit(2 if isinstance(exc, ConfigError) else 1)


def _when(value: datetime | None) -> str:
    return value.astimezone(BOGOTA).strftime("%Y-%m-%d %H:%M") if value else "—"


def _print_report(report: object) -> None:
    from notifier.service import DeliveryReport

    assert isinstance(report, DeliveryReport)
    for d in report.deliveries:
        if d.status != "sent":
            console.print(f"{d.municipality} · {d.recipient} · {KIND_ES.get(d.kind, d.kind)} {d.period}: "
                          f"{STATUS_ES.get(d.status, d.status)}{f' — {d.error}' if d.error else ''}", highlight=False)
    for problem in report.errors:
        err.print(f"No se pudo preparar: {problem}", highlight=False)
    console.print(f"{report.count('sent')} enviados, {report.count('failed')} fallidos (se reintentarán), "
                  f"{report.count('rejected')} rechazados, {report.count('deferred')} aplazados; "
                  f"{len(report.decided)} ediciones con envíos, {len(report.nothing_due)} sin nada que enviar.")


def digest(
    preview: Annotated[str | None, typer.Option(help="Municipio (slug) cuyo boletín se escribe a archivos sin enviar.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Decide y envía los boletines de esta semana y reintenta los pendientes.")] = False,
    status: Annotated[bool, typer.Option("--status", help="Estado de los envíos (libro de envíos) de los últimos días.")] = False,
    municipality: Annotated[list[str] | None, typer.Option("--municipality", "-m", help="Limitar --send o --status a estos municipios.")] = None,
    kind: Annotated[str, typer.Option(help="Para --preview: digest (boletín semanal), reminder (recordatorio) o health (alerta de fuentes).")] = "digest",
    out: Annotated[Path, typer.Option(help="Carpeta para --preview.")] = Path("preview"),
    days: Annotated[int, typer.Option(help="Para --status: cuántos días atrás mostrar.")] = 35,
) -> None:
    """Boletines semanales: vista previa, envío de lo pendiente, o estado de los envíos."""
    from sqlalchemy import select

    from models import Municipality
    from models.db import session_factory
    from notifier.send import make_sender
    from notifier.service import deliver, delivery_status
    from notifier.service import preview as preview_digest

    if sum((preview is not None, send, status)) != 1:
        err.print("Indique exactamente una opción: --preview MUNICIPIO, --send o --status.")
        raise typer.Exit(2)
    if kind not in ("digest", "reminder", "health"):
        err.print("--kind debe ser digest, reminder o health.")
        raise typer.Exit(2)
    settings = Settings()
    with session_factory(settings.database_url)() as session:
        if preview is not None:
            target = session.scalars(select(Municipality).where(Municipality.slug == preview)).first()
            if target is None:
                err.print(f"No existe el municipio '{preview}' en la base de datos (¿falta `convoca match`?).")
                raise typer.Exit(2)
            shown = preview_digest(session, settings, target, kind)
            if shown is None:
                console.print("Nada que enviar a este municipio en este periodo.")
                return
            out.mkdir(parents=True, exist_ok=True)
            stem = out / f"{preview}-{kind}"
            stem.with_suffix(".html").write_text(shown.html, encoding="utf-8")
            stem.with_suffix(".txt").write_text(shown.text, encoding="utf-8")
            if shown.calendar:
                stem.with_suffix(".ics").write_text(shown.calendar, encoding="utf-8")
            origin = "edición ya decidida" if shown.stored else "vista previa; nada se registró"
            console.print(f"Asunto: {shown.subject}\n({origin}) Escrito en {stem}.html, .txt"
                          f"{' y .ics' if shown.calendar else ''}", highlight=False)
            return
        if status:
            rows = delivery_status(session, since=datetime.now(UTC) - timedelta(days=days), only=municipality)
            table = Table(title=f"Envíos de los últimos {days} días (hora de Bogotá)", box=box.SIMPLE_HEAD)
            table.add_column("Municipio", overflow="fold")
            table.add_column("Destinatario", overflow="fold")
            for col in ("Envío", "Estado", "Int.", "Último intento"):
                table.add_column(col, no_wrap=True)
            for r in rows:
                table.add_row(r.municipality, r.recipient, f"{KIND_ES.get(r.kind, r.kind)} {r.period}",
                              STATUS_ES.get(r.status, r.status), str(r.attempts), _when(r.last_attempt_at))
            console.print(table)
            # Errors in full, one per line: a table column would cut them.
            for r in rows:
                if r.last_error and r.status != "sent":
                    console.print(f"{r.municipality} · {r.recipient} · {r.period}: {r.last_error}", highlight=False,
                                  soft_wrap=True)
            counts = {s: sum(1 for r in rows if r.status == s) for s in ("sent", "pending", "sending", "failed", "rejected")}
            console.print(", ".join(f"{n} {STATUS_ES[s]}" for s, n in counts.items()), highlight=False)
            return
        try:
            report = deliver(session, settings, make_sender(settings), kinds=("digest",), only=municipality)
        except ConvocaError as exc:
            _fail(exc)
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def reminders() -> None:
    """Recordatorios del día (fecha límite interna cercana) y reintento de todo lo no entregado."""
    from convoca.jobs import run_reminders

    try:
        report = run_reminders(Settings())
    except ConvocaError as exc:
        _fail(exc)
    _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def cycle(
    municipalities: Annotated[list[str] | None, typer.Argument(help="Municipios (slugs) cuyos boletines se envían; por defecto todos.")] = None,
    crawl: Annotated[bool | None, typer.Option("--crawl/--no-crawl", help="Forzar u omitir el rastreo; por defecto solo si el último es antiguo.")] = None,
    replay: Annotated[bool, typer.Option(help="Rastrear las respuestas grabadas del proyecto (servidor local).")] = False,
) -> None:
    """Un ciclo semanal ahora: rastreo (cada fuente en su proceso) → coincidencias → boletines."""
    from convoca.jobs import run_cycle

    try:
        report = run_cycle(Settings(), municipalities=municipalities, crawl=crawl, replay=replay,
                           say=lambda m: console.print(m, highlight=False))
    except ConvocaError as exc:
        _fail(exc)
    if report.crawl_failures:
        err.print(f"Fuentes que fallaron: {', '.join(report.crawl_failures)}")
    for problem in report.errors:
        err.print(problem, highlight=False)
    assert report.delivery is not None
    _print_report(report.delivery)
    if report.errors or report.crawl_failures or not report.delivery.ok:
        raise typer.Exit(1)


def scheduler(
    jobs: Annotated[bool, typer.Option("--jobs", help="Solo listar los trabajos guardados y su próxima ejecución.")] = False,
) -> None:
    """Servicio programado: ciclo semanal por municipio (día y hora de su configuración, hora de
    Bogotá) y recordatorios diarios. Se detiene con SIGTERM tras terminar el trabajo en curso."""
    from convoca.cycle import sync_configs
    from convoca.logs import configure_logging
    from models.db import session_scope
    from notifier.scheduler import plan_jobs, run_scheduler, slots_from_db, stored_jobs

    settings = Settings()
    if jobs:
        table = Table(title="Trabajos programados (hora de Bogotá)")
        for col in ("Trabajo", "Disparador", "Próxima ejecución"):
            table.add_column(col)
        for job in stored_jobs(settings):
            when = _when(job.next_run_time) if job.next_run_time else "en pausa"
            table.add_row(job.id, str(job.trigger), when)
        console.print(table)
        return
    configure_logging("INFO")  # a service: its job log is the record of what ran
    try:
        with session_scope(settings.database_url) as session:
            _, issues = sync_configs(session, settings)
            plans = plan_jobs(slots_from_db(session), settings)
    except ConvocaError as exc:
        _fail(exc)
    for issue in issues:
        err.print(f"Configuración inválida omitida: {issue}")
    if not run_scheduler(settings, plans):
        err.print("Se perdió el liderazgo del programador (conexión con la base de datos); salida para reiniciar.")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(digest)
    app.command()(reminders)
    app.command()(cycle)
    app.command()(scheduler)
