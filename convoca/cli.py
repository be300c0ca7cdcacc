"""The `convoca` command. Each command parses arguments, builds settings and a session, calls
one service function, and maps domain errors to exit codes (0 ok, 1 failure, 2 usage/config)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from convoca import cli_notify
from convoca.cli_web import register as register_web
from convoca import cli_crawl
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
register_web(app)
cli_crawl.register(app)

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


# ------------------------------------------------------------------ match, evaluate, sdg (convoca/cli_matcher.py)

app.command()(cli_matcher.match)
app.add_typer(cli_matcher.evaluate_app, name="evaluate")
app.add_typer(cli_matcher.sdg_app, name="sdg")


# ------------------------------------------------------------------ digest, reminders, cycle, scheduler

cli_notify.register(app)


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
    user, slug = report.web_accounts[0]
    console.print(f"Página web: [bold]CONVOCA_DATABASE_URL={report.database_url} .venv/bin/convoca serve[/] y abra "
                  f"[bold]{settings.base_url.rstrip('/')}/m/{slug}/coincidencias[/]", highlight=False, soft_wrap=True)
    console.print(f"Cuenta de demostración: usuario [bold]{user}[/], contraseña [bold]{report.web_password}[/] "
                  f"(y {report.web_accounts[-1][0]} para el resumen del AMVA)", highlight=False, soft_wrap=True)
    if any(c.exit_code != 0 for c in report.crawls) or not sent:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
