"""The `convoca` command. Each command parses arguments, builds settings and a session, calls
one service function, and maps domain errors to exit codes (0 ok, 1 failure, 2 usage/config)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from convoca import cli_matcher
from convoca.errors import ConfigError, ConvocaError
from convoca.logs import configure_logging
from convoca.settings import Settings

app = typer.Typer(help="Convoca: convocatorias de cooperación para el Valle de Aburrá.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
config_app = typer.Typer(help="Archivos de configuración.", no_args_is_help=True)
db_app = typer.Typer(help="Base de datos.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")

console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    return Settings()


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Registro detallado.")] = False) -> None:
    configure_logging("DEBUG" if verbose else "WARNING")


def _fail(exc: ConvocaError) -> None:
    err.print(f"[bold red]Error:[/] {exc}", markup=True, highlight=False)
    raise typer.Exit(2 if isinstance(exc, ConfigError) else 1)


# ------------------------------------------------------------------ config

@config_app.command("check")
def config_check(
    files: Annotated[list[Path] | None, typer.Argument(help="Archivos a validar; por defecto todos.")] = None,
) -> None:
    """Valida archivos de configuración y lista todos los errores (sale con 2 si hay alguno)."""
    from config.loader import check_files

    settings = _settings()
    paths = files or sorted(settings.municipalities_dir.glob("*.yaml"))
    if not files:
        paths += [p for p in (settings.config_dir / "fx_rates.yaml", settings.sources_file) if p.exists()]
    issues = check_files(list(paths))
    for issue in issues:
        print(str(issue))
    if issues:
        bad = len({i.file for i in issues})
        print(f"{len(issues)} error(es) en {bad} archivo(s).", file=sys.stderr)
        raise typer.Exit(2)
    print(f"{len(paths)} archivo(s) válido(s).")


# ------------------------------------------------------------------ db

@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Revisión destino.")] = "head") -> None:
    """Aplica las migraciones de Alembic a la base de datos configurada."""
    from models.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    console.print(f"Base de datos al día ({revision}).")


# ------------------------------------------------------------------ crawl

@app.command()
def crawl(
    sources: Annotated[list[str] | None, typer.Argument(help="Fuentes a rastrear; por defecto todas.")] = None,
    replay: Annotated[bool, typer.Option(help="Usar las respuestas grabadas del proyecto (servidor local).")] = False,
) -> None:
    """Rastrea fuentes, cada una en su propio proceso, y guarda las convocatorias."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from convoca.cycle import sync_configs
    from crawlers.replay import RECORDINGS_DIR, ReplayServer, discover_recordings
    from crawlers.service import crawl_sources
    from models.db import session_factory, session_scope

    settings = _settings()
    with session_scope(settings.database_url) as session:
        sync_configs(session, settings)
    server = None
    spider_args: dict[str, dict[str, str]] = {}
    if replay:
        recordings = discover_recordings(RECORDINGS_DIR)
        spider_args = {r.source: r.spider_args for r in recordings}
        server = ReplayServer(recordings)
        settings = settings.model_copy(update={"replay_url": server.start()})
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("Rastreando…", total=None)
            results = crawl_sources(
                settings, session_factory(settings.database_url), sources or None, spider_args=spider_args,
                on_start=lambda s: progress.update(task, description=f"Rastreando {s}…"),
                on_done=lambda r: progress.console.print(
                    f"{r.source}: {r.run.get('seen', 0)} vistas, {r.run.get('new', 0)} nuevas, "
                    f"{r.run.get('changed', 0)} con cambios, {r.run.get('dropped', 0)} descartadas "
                    f"({r.seconds:.1f} s){'' if r.exit_code == 0 else ' — FALLÓ'}"),
            )
    except ConvocaError as exc:
        _fail(exc)
    finally:
        if server is not None:
            server.stop()
    if any(r.exit_code != 0 for r in results):
        raise typer.Exit(1)


@app.command()
def sources() -> None:
    """Salud de las fuentes: última ejecución, elementos y descartes."""
    from crawlers.service import source_health
    from models.db import session_scope

    settings = _settings()
    with session_scope(settings.database_url) as session:
        rows = source_health(session)
    table = Table(title="Salud de las fuentes")
    for col in ("Fuente", "Última ejecución", "Estado", "Vistas", "Nuevas", "Cambios", "Descartadas", "Errores", "Salud"):
        table.add_column(col)
    for r in rows:
        when = r.last_run_at.strftime("%Y-%m-%d %H:%M") if isinstance(r.last_run_at, datetime) else "—"
        health = "[green]sana[/]" if r.healthy else f"[red]con problemas[/] ({r.reason or ''})"
        table.add_row(r.source, when, r.status, str(r.seen), str(r.new), str(r.changed), str(r.dropped),
                      str(r.errors), health)
    console.print(table)


# ------------------------------------------------------------------ match, evaluate, sdg (convoca/cli_matcher.py)

app.command()(cli_matcher.match)
app.add_typer(cli_matcher.evaluate_app, name="evaluate")
app.add_typer(cli_matcher.sdg_app, name="sdg")


# ------------------------------------------------------------------ digest

@app.command()
def digest(
    preview: Annotated[str | None, typer.Option(help="Municipio (slug) cuyo boletín se escribe a archivos sin enviar.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Envía los boletines pendientes.")] = False,
    out: Annotated[Path, typer.Option(help="Carpeta para --preview.")] = Path("preview"),
) -> None:
    """Boletines semanales: vista previa o envío de los pendientes."""
    from sqlalchemy import select

    from models import Municipality
    from models.db import session_factory
    from notifier.send import make_sender
    from notifier.service import deliver_all, prepare_digest

    settings = _settings()
    if not preview and not send:
        err.print("Indique --preview MUNICIPIO o --send.")
        raise typer.Exit(2)
    with session_factory(settings.database_url)() as session:
        if preview:
            municipality = session.scalars(select(Municipality).where(Municipality.slug == preview)).first()
            if municipality is None:
                err.print(f"No existe el municipio '{preview}'.")
                raise typer.Exit(2)
            digest_data, rendered = prepare_digest(session, settings, municipality, datetime.now(UTC))
            session.rollback()  # a preview decides nothing
            if rendered is None:
                console.print("Nada nuevo para este municipio en este periodo.")
                return
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{preview}.html").write_text(rendered.html, encoding="utf-8")
            (out / f"{preview}.txt").write_text(rendered.text, encoding="utf-8")
            console.print(f"Asunto: {rendered.subject}\nEscrito en {out / (preview + '.html')} y {out / (preview + '.txt')}")
            return
        results = deliver_all(session, settings, make_sender(settings))
    failed = [r for r in results if r.status == "failed"]
    sent = [r for r in results if r.status == "sent"]
    console.print(f"{len(sent)} enviados, {len(failed)} fallidos, "
                  f"{sum(1 for r in results if r.status == 'skipped_sent')} ya enviados antes.")
    if failed:
        raise typer.Exit(1)


# ------------------------------------------------------------------ demo

@app.command()
def demo() -> None:
    """Ejecuta un ciclo semanal completo con las fuentes grabadas (SQLite, bandeja de salida)."""
    from convoca.demo import run_demo

    settings = _settings()
    report = run_demo(settings, say=lambda m: console.print(m, highlight=False))
    for issue in report.config_issues:
        err.print(f"Configuración inválida omitida: {issue}")
    table = Table(title="Mejores coincidencias por municipio")
    for col in ("Municipio", "Perfil", "Puntaje", "Convocatoria", "Cierre"):
        table.add_column(col, overflow="fold")
    for row in report.ranked:
        deadline = row.deadline.strftime("%Y-%m-%d") if isinstance(row.deadline, datetime) else "no indicado"
        table.add_row(row.municipality, row.profile, f"{row.score:.1f}", row.title + (" (conjunta)" if row.joint else ""), deadline)
    console.print(table)
    assert report.matching is not None
    per = ", ".join(f"{k}: {v}" for k, v in sorted(report.matching.by_municipality.items()))
    console.print(f"Coincidencias sobre el umbral por municipio: {per}")
    sent = [d for d in report.deliveries if d.status == "sent"]
    console.print(f"{len(sent)} correos escritos en la bandeja de salida: [bold]{report.outbox}[/]")
    console.print(f"Base de datos de la demostración: {report.database_url}")
    console.print(f"Tiempo total: {report.seconds:.1f} s")
    if any(c.exit_code != 0 for c in report.crawls) or not sent:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
