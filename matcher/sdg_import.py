"""`convoca sdg import`: load the official goal and target texts an operator has, for the tagger.

Accepted layouts:
- the UN SDG API JSON (`/v1/sdg/Goal/List?includechildren=true`): a list of goals, each with
  `code`, `title`, `description` and `targets` [{`code`, `title`}]; English;
- the same shape wrapped as {"language": "es", "goals": [{"goal", "title", "targets": [{"target", "title"}]}]};
- the CSV layout `goal,target,title_en,title_es` (one row per target, either title may be empty).

Rows are stored per (code, language, source); importing the same source again replaces it.
Imported target texts name targets inside tagged goals; goal decisions keep using the project's
calibrated descriptions (see matcher/sdg.py).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from convoca.errors import MatchError
from convoca.sdg_codes import ALL_TARGETS, GOALS
from models import SdgText

log = structlog.stdlib.get_logger("convoca.sdg_import")

_VALID = set(ALL_TARGETS) | {str(g) for g in GOALS}


@dataclass
class ImportResult:
    source: str
    stored: int
    skipped: list[str]
    languages: list[str]


def _code(value: Any) -> str:
    return re.sub(r"\s+", "", str(value or "")).rstrip(".")


def parse_json(data: Any) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(code, language, text) rows and the reasons rows were skipped."""
    language = "en"
    goals = data
    if isinstance(data, dict):
        language = str(data.get("language") or "en")[:2]
        goals = data.get("goals", [])
    if not isinstance(goals, list):
        raise MatchError("JSON: expected a list of goals (UN SDG API) or {\"goals\": [...]}")
    rows: list[tuple[str, str, str]] = []
    skipped: list[str] = []
    for goal in goals:
        if not isinstance(goal, dict):
            skipped.append(f"goal entry {goal!r:.40}: not an object")
            continue
        gcode = _code(goal.get("code", goal.get("goal")))
        gtext = " ".join(filter(None, [goal.get("title"), goal.get("description")]))
        if gcode in _VALID and gtext:
            rows.append((gcode, language, gtext))
        else:
            skipped.append(f"goal {gcode or '?'}: no valid code or text")
        for target in goal.get("targets") or []:
            tcode = _code(target.get("code", target.get("target")) if isinstance(target, dict) else None)
            ttext = target.get("title") if isinstance(target, dict) else None
            if tcode in _VALID and ttext:
                rows.append((tcode, language, str(ttext)))
            else:
                skipped.append(f"target {tcode or '?'}: no valid code or text")
    return rows, skipped


def parse_csv(path: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    rows: list[tuple[str, str, str]] = []
    skipped: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not {"target"} <= set(reader.fieldnames or []):
            raise MatchError(f"{path}: expected columns goal,target,title_en,title_es")
        for line, raw in enumerate(reader, start=2):
            code = _code(raw.get("target"))
            if code not in _VALID:
                skipped.append(f"{path.name}:{line}: '{raw.get('target')}' is not a target code")
                continue
            for lang in ("en", "es", "fr", "pt"):
                text = (raw.get(f"title_{lang}") or "").strip()
                if text:
                    rows.append((code, lang, text))
    return rows, skipped


def import_sdg_texts(session: Session, path: Path, source: str | None = None) -> ImportResult:
    if not path.exists():
        raise MatchError(f"{path}: file not found")
    if path.suffix.lower() == ".csv":
        rows, skipped = parse_csv(path)
        source = source or "csv"
    else:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MatchError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
        rows, skipped = parse_json(data)
        source = source or "un-sdg-api"
    if not rows:
        raise MatchError(f"{path}: no goal or target text found")
    unique = {(code, lang): text for code, lang, text in rows}
    session.execute(delete(SdgText).where(SdgText.source == source))
    session.execute(insert(SdgText), [{"code": code, "language": lang, "text": text, "source": source}
                                      for (code, lang), text in unique.items()])
    for reason in skipped:
        log.warning("sdg_text_skipped", reason=reason)
    log.info("sdg_texts_imported", source=source, stored=len(unique), skipped=len(skipped))
    return ImportResult(source, len(unique), skipped, sorted({lang for _, lang in unique}))
