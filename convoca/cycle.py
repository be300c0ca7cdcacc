"""The weekly cycle's steps as service functions the CLI, the scheduler and the demo share."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from config.loader import load_municipalities
from config.sync import sync_municipalities
from convoca.errors import ConfigIssue
from convoca.settings import Settings
from models import Match, Municipality

log = structlog.stdlib.get_logger("convoca.cycle")


def sync_configs(session: Session, settings: Settings) -> tuple[int, list[ConfigIssue]]:
    """Load every municipality file; mirror the valid ones. A bad file is reported, not fatal."""
    loaded, issues = load_municipalities(settings.municipalities_dir)
    for issue in issues:
        log.error("config_invalid", file=issue.file, line=issue.line, field=issue.field, message=issue.message)
    sync_municipalities(session, loaded)
    return len(loaded), issues


@dataclass
class RankedRow:
    municipality: str
    profile: str
    score: float
    title: str
    funder: str | None
    deadline: object
    joint: bool


def ranked_matches(session: Session, *, per_municipality: int = 5) -> list[RankedRow]:
    rows: list[RankedRow] = []
    for m in session.scalars(select(Municipality).order_by(Municipality.name)):
        matches = session.scalars(
            select(Match).options(selectinload(Match.opportunity), selectinload(Match.profile))
            .where(Match.municipality_id == m.id, Match.above_threshold.is_(True))
            .order_by(Match.score.desc()).limit(per_municipality * 3)
        ).all()
        seen: set[int] = set()
        for match in matches:
            if match.opportunity_id in seen:
                continue
            seen.add(match.opportunity_id)
            rows.append(RankedRow(m.name, match.profile.title, match.score, match.opportunity.title,
                                  match.opportunity.funder, match.opportunity.deadline, match.joint_call))
            if len(seen) >= per_municipality:
                break
    return rows
