"""Upsert of normalised opportunities, keyed by (source, source_id), with change history.

Rules:
- a tracked field that changes writes one version row per field; a moved deadline is one
  change (one `deadline` row), not two: the list of deadlines follows it silently, and gets
  its own row only when a stage is added or dropped while the next deadline stays;
- a value the source no longer states (None) never erases a known one (stub rows of some
  APIs carry no status or deadline);
- a call no longer listed is not deleted;
- the first source to publish a call owns its fields; another source publishing the same call
  (same canonical URL, or a near-duplicate title with a compatible deadline: crawlers/dedupe.py)
  adds a link and may only fill fields still unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from crawlers.dedupe import Duplicate, canonical_url, find_duplicate, store_keys
from crawlers.items import Opportunity as OpportunityData
from models import DedupKey, Opportunity, OpportunityLink, OpportunityVersion
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


_INSERT_OPPORTUNITY = insert(Opportunity).returning(Opportunity.id)
_INSERT_LINK = insert(OpportunityLink)


def _insert_new(session: Session, data: OpportunityData, now: datetime) -> int:
    """A new opportunity, its first link and its dedup keys, as three Core inserts: most
    crawled calls take this path, and the unit of work would cost more than the writes."""
    values = {**_incoming(data), **{name: getattr(data, name) for name in _UNTRACKED},
              "source": data.source, "source_id": data.source_id, "content_hash": data.content_hash,
              "first_seen_at": now, "last_seen_at": now, "last_changed_at": now}
    connection = session.connection()
    # Values as parameters, not in the statement: one compiled statement serves every call.
    opp_id = connection.execute(_INSERT_OPPORTUNITY, values).scalar_one()
    connection.execute(_INSERT_LINK, {
        "opportunity_id": opp_id, "source": data.source, "source_id": data.source_id, "url": data.url,
        "canonical_url": canonical_url(data.url), "first_seen_at": now, "last_seen_at": now})
    store_keys(session, opp_id, data.title)
    return int(opp_id)


# Default of `duplicate`: search for one here.
DETECT = Duplicate(-1, "detect")


def find_link(session: Session, source: str, source_id: str) -> OpportunityLink | None:
    return session.scalars(
        select(OpportunityLink).where(OpportunityLink.source == source, OpportunityLink.source_id == source_id)
    ).first()


def upsert_opportunity(
    session: Session, data: OpportunityData, *, now: datetime | None = None, run_id: int | None = None,
    duplicate: Duplicate | None = DETECT, known_new: bool = False,
) -> UpsertResult:
    """Insert, update or merge one call.

    `duplicate` is the dedupe stage's finding for a call not seen before from this source
    (None: no duplicate); left out, the duplicate search runs here. `known_new` says the
    caller already found no link for (source, source_id) in this session.
    """
    now = now or datetime.now(UTC)
    link = None if known_new else find_link(session, data.source, data.source_id)

    if link is None:
        if duplicate is DETECT:
            duplicate = find_duplicate(session, data)
        existing = session.get(Opportunity, duplicate.opportunity_id) if duplicate is not None else None
        if existing is None:
            session.flush()  # anything pending goes first, so that Core and ORM writes keep their order
            return UpsertResult("new", _insert_new(session, data, now))
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
    if "title" in changed:
        session.execute(delete(DedupKey).where(DedupKey.opportunity_id == row.id))
        store_keys(session, row.id, row.title)
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
        if name == "deadlines" and "deadline" in changed:
            row.deadlines = new  # the `deadline` row already tells this change
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


def merge_late_duplicates(session: Session, *, since: datetime) -> int:
    """Merge calls first seen since `since` into an older opportunity of another source that is
    the same call. Crawls that run at the same time cannot see each other's uncommitted rows;
    this pass, run once they have all finished, catches what their dedupe stages missed.
    Returns the number of opportunities merged away."""
    from crawlers.dedupe import band_keys, is_same_call, stored_deadlines, title_words

    fresh = session.scalars(
        select(Opportunity).where(Opportunity.first_seen_at >= since).order_by(Opportunity.id)
    ).all()
    merged = 0
    for row in fresh:
        if len(row.links) != 1:
            continue
        words, deadlines = title_words(row.title), stored_deadlines(row.deadlines)
        canonical = row.links[0].canonical_url
        target = session.scalars(
            select(Opportunity).join(OpportunityLink)
            .where(OpportunityLink.canonical_url == canonical, Opportunity.id < row.id)
            .order_by(Opportunity.id).limit(1)
        ).first()
        if target is None:
            keys = band_keys(words)
            candidates = session.scalars(
                select(Opportunity)
                .where(Opportunity.id.in_(select(DedupKey.opportunity_id).where(DedupKey.key.in_(keys))))
                .where(Opportunity.id < row.id, Opportunity.source != row.source)
                .order_by(Opportunity.id)
            ).all() if keys else []
            target = next((c for c in candidates if is_same_call(words, deadlines, title_words(c.title),
                                                                  stored_deadlines(c.deadlines))), None)
        if target is None:
            continue
        for name in (*TRACKED_FIELDS, *_UNTRACKED):
            if getattr(target, name) in (None, [], {}) and getattr(row, name) not in (None, [], {}):
                setattr(target, name, getattr(row, name))
        for link in list(row.links):
            link.opportunity = target
        session.flush()
        session.delete(row)
        session.flush()
        merged += 1
    return merged
