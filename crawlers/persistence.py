"""Upsert of normalised opportunities, keyed by (source, source_id), with change history.

Rules:
- a tracked field that changes writes one version row per field;
- a value the source no longer states (None) never erases a known one (stub rows of some
  APIs carry no status or deadline);
- a call no longer listed is not deleted;
- the first source to publish a call owns its fields; another source with the same canonical
  URL adds a link and may only fill fields still unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawlers.dedupe import canonical_url
from crawlers.items import Opportunity as OpportunityData
from models import Opportunity, OpportunityLink, OpportunityVersion
from models.opportunity import TRACKED_FIELDS

Outcome = Literal["new", "changed", "unchanged", "merged"]

_UNTRACKED = ("summary", "language", "funder", "amount_cop", "cofinancing_required", "topics", "raw")


@dataclass
class UpsertResult:
    outcome: Outcome
    opportunity_id: int
    changed_fields: list[str] = field(default_factory=list)


def _norm(value: Any) -> Any:
    """Comparable JSON-ready form of a stored or incoming value."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _incoming(data: OpportunityData) -> dict[str, Any]:
    values = {name: getattr(data, name) for name in TRACKED_FIELDS}
    values["deadlines"] = [d.astimezone(UTC).isoformat() for d in sorted(data.deadlines)]
    return values


def _apply_new(row: Opportunity, data: OpportunityData) -> None:
    for name in TRACKED_FIELDS:
        setattr(row, name, _incoming(data)[name])
    for name in _UNTRACKED:
        setattr(row, name, getattr(data, name))


def find_duplicate(session: Session, data: OpportunityData) -> Opportunity | None:
    link = session.scalars(
        select(OpportunityLink).where(OpportunityLink.canonical_url == canonical_url(data.url)).limit(1)
    ).first()
    return link.opportunity if link is not None else None


def upsert_opportunity(
    session: Session, data: OpportunityData, *, now: datetime | None = None, run_id: int | None = None
) -> UpsertResult:
    now = now or datetime.now(UTC)
    link = session.scalars(
        select(OpportunityLink).where(
            OpportunityLink.source == data.source, OpportunityLink.source_id == data.source_id
        )
    ).first()

    if link is None:
        existing = find_duplicate(session, data)
        if existing is None:
            row = Opportunity(
                source=data.source, source_id=data.source_id, content_hash=data.content_hash,
                first_seen_at=now, last_seen_at=now, last_changed_at=now,
            )
            _apply_new(row, data)
            row.links.append(OpportunityLink(
                source=data.source, source_id=data.source_id, url=data.url,
                canonical_url=canonical_url(data.url), first_seen_at=now, last_seen_at=now,
            ))
            session.add(row)
            session.flush()
            return UpsertResult("new", row.id)
        existing.links.append(OpportunityLink(
            source=data.source, source_id=data.source_id, url=data.url,
            canonical_url=canonical_url(data.url), first_seen_at=now, last_seen_at=now,
        ))
        changed = _update(session, existing, data, now=now, run_id=run_id, fill_only=True)
        session.flush()
        return UpsertResult("merged", existing.id, changed)

    link.last_seen_at = now
    if link.url != data.url:
        link.url = data.url
        link.canonical_url = canonical_url(data.url)
    row = link.opportunity
    owner = row.source == data.source and row.source_id == data.source_id
    changed = _update(session, row, data, now=now, run_id=run_id, fill_only=not owner)
    session.flush()
    return UpsertResult("changed" if changed else "unchanged", row.id, changed)


def _update(session: Session, row: Opportunity, data: OpportunityData, *, now: datetime,
            run_id: int | None, fill_only: bool) -> list[str]:
    incoming = _incoming(data)
    same_deadlines = _norm(incoming["deadlines"]) == _norm(row.deadlines)
    changed: list[str] = []
    for name in TRACKED_FIELDS:
        new, old = incoming[name], getattr(row, name)
        if new is None or (new == [] and name == "deadlines"):
            continue  # unknown now is not a change: keep what we knew
        if fill_only and old not in (None, []):
            continue
        if _norm(new) == _norm(old):
            continue
        if name == "deadline" and same_deadlines and old is not None:
            # The next deadline moved on because a stage passed, not because the call changed.
            row.deadline = new
            continue
        session.add(OpportunityVersion(
            opportunity=row, source_run_id=run_id, field=name,
            old_value=_norm(old), new_value=_norm(new), changed_at=now,
        ))
        setattr(row, name, new)
        changed.append(name)
    for name in _UNTRACKED:
        new = getattr(data, name)
        if new in (None, [], {}):
            continue
        if fill_only and getattr(row, name) not in (None, [], {}):
            continue
        setattr(row, name, new)
    row.last_seen_at = now
    if changed:
        row.last_changed_at = now
        row.content_hash = data.content_hash
    return changed
