"""`convoca crawl` and `convoca sources`: crawl sources (one process per crawl) and show their health."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from convoca.errors import ConvocaError
from convoca.settings import Settings

console = Console()
err = Console(stderr=True)


def _reasons(by_reason: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(by_reason.items())) or "—"


def crawl(
    sources: Annotated[list[str] | None, typer.Argument(help="Fuentes a rastrear; por defecto todas las habilitadas.")] = None,
    replay: Annotated[bool, typer.Option(help="Usar las respuestas grabadas del proyecto (servidor local).")] = False,
    parallel: Annotated[int, typer.Option(min=1, max=8, help="Rastreos simultáneos (cada uno en su proceso).")] = 2,
    scrapyd: Annotated[list[str] | None, typer.Option(
        "--scrapyd", help="Repartir los rastreos entre estas instancias de Scrapyd (URL; se puede repetir).")] = None,
) -> None:
    """Rastrea fuentes, cada rastreo en su propio proceso, y guarda las convocatorias."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from convoca.cycle import sync_configs
    from crawlers.replay import RECORDINGS_DIR, ReplayServer, discover_recordings
    from crawlers.service import CrawlResult, available_sources, crawl_sources
    from models.db import session_factory, session_scope

    settings = Settings()
    if scrapyd and replay:
        err.print("--replay sirve las grabaciones en esta máquina; no se puede combinar con --scrapyd.")
        raise typer.Exit(2)
    scrapyd = scrapyd or ([] if replay else settings.scrapyd_hosts)
    with session_scope(settings.database_url) as session:
        sync_configs(session, settings)
    server = None
    spider_args: dict[str, dict[str, str]] = {}
    if replay:
        recordings = discover_recordings(RECORDINGS_DIR)
        spider_args = {r.source: r.spider_args for r in recordings}
        server = ReplayServer(recordings)
        settings = settings.model_copy(update={"replay_url": server.start()})
    total = len(sources) if sources else len(available_sources(settings))
    failed = False
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("Rastreando…", total=total)

            def done(result: CrawlResult) -> None:
                nonlocal failed
                run = result.run
                failed = failed or result.exit_code != 0
                progress.advance(task)
                progress.console.print(
                    f"{result.source}: {run.get('seen', 0)} vistas, {run.get('new', 0)} nuevas, "
                    f"{run.get('changed', 0)} con cambios, {run.get('merged', 0)} fusionadas, "
                    f"{run.get('dropped', 0)} descartadas ({result.seconds:.1f} s)"
                    f"{'' if result.exit_code == 0 else ' — FALLÓ'}", highlight=False)

            on_start = lambda s: progress.update(task, description=f"Rastreando {s}…")  # noqa: E731
            if scrapyd:
                from crawlers.scrapyd import crawl_on_scrapyd

                crawl_on_scrapyd(settings, session_factory(settings.database_url), scrapyd, sources or None,
                                 on_start=on_start, on_done=done)
            else:
                crawl_sources(settings, session_factory(settings.database_url), sources or None,
                              spider_args=spider_args, parallel=parallel, on_start=on_start, on_done=done)
    except ConvocaError as exc:
        err.print(f"[bold red]Error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        if server is not None:
            server.stop()
    if failed:
        raise typer.Exit(1)


def sources() -> None:
    """Salud de las fuentes: última ejecución, elementos, descartes por motivo y errores."""
    from crawlers.service import source_health
    from models.db import session_scope

    settings = Settings()
    with session_scope(settings.database_url) as session:
        rows = source_health(session)
    table = Table(title="Salud de las fuentes")
    for col in ("Fuente", "Última ejecución", "Estado", "Vistas", "Nuevas", "Cambios", "Fusionadas", "Descartadas",
                "Motivos de descarte", "Errores", "Duración", "Salud"):
        table.add_column(col, overflow="fold")
    for r in rows:
        when = r.last_run_at.strftime("%Y-%m-%d %H:%M") if isinstance(r.last_run_at, datetime) else "—"
        health = "[green]sana[/]" if r.healthy else f"[red]con problemas[/] ({r.reason or ''})"
        duration = f"{r.duration_s:.1f} s" if r.duration_s is not None else "—"
        table.add_row(r.source, when, r.status, str(r.seen), str(r.new), str(r.changed), str(r.merged), str(r.dropped),
                      _reasons(r.dropped_by_reason), str(r.errors), duration, health)
    console.print(table)
    unhealthy = [r.source for r in rows if not r.healthy]
    if unhealthy:
        console.print(f"{len(unhealthy)} fuente(s) con problemas: {', '.join(unhealthy)}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(crawl)
    app.command()(sources)
