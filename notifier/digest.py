"""Collect what a municipality's digest of one period lists.

The content of a period is decided once and recorded as digest_entry rows, so every
recipient, and every retry, gets the same digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import DigestEntry, Match, Municipality, Opportunity
from notifier.formatting import BOGOTA, days_until


def period_of(day: date) -> str:
    """The ISO week a digest belongs to, e.g. '2026-W48'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def today_in_bogota(now: datetime) -> date:
    return now.astimezone(BOGOTA).date()


@dataclass
class DigestItem:
    opportunity_id: int
    profile_id: int
    profile_title: str
    title: str
    url: str
    funder: str | None
    cooperation_type: str | None
    amount_min: float | None
    amount_max: float | None
    currency: str | None
    amount_cop: float | None
    deadline: datetime | None
    days_left: int | None
    eligible_countries: list[str] | None
    eligible_applicants: list[str] | None
    score: float
    matched_keywords: list[str]
    shared_targets: list[str]
    shared_goals: list[str]
    best_passage: str | None
    unknown_filters: list[str]
    municipalities: list[str] = field(default_factory=list)


@dataclass
class DigestGroup:
    profile_title: str
    items: list[DigestItem]


@dataclass
class Digest:
    municipality_slug: str
    municipality_name: str
    is_metropolitan: bool
    period: str
    today: date
    groups: list[DigestGroup]
    joint_calls: list[DigestItem]

    @property
    def items(self) -> list[DigestItem]:
        return [item for group in self.groups for item in group.items]

    @property
    def is_empty(self) -> bool:
        return not self.items and not self.joint_calls

    def context(self, web_url: str) -> dict[str, Any]:
        return {"digest": self, "web_url": web_url.rstrip("/"), "municipality": self.municipality_name}


def _item(match: Match, today: date) -> DigestItem:
    opp: Opportunity = match.opportunity
    expl = match.explanation or {}
    return DigestItem(
        opportunity_id=opp.id, profile_id=match.profile_id, profile_title=match.profile.title,
        title=opp.title, url=opp.url, funder=opp.funder, cooperation_type=opp.cooperation_type,
        amount_min=opp.amount_min, amount_max=opp.amount_max, currency=opp.currency, amount_cop=opp.amount_cop,
        deadline=opp.deadline, days_left=days_until(opp.deadline, today),
        eligible_countries=opp.eligible_countries, eligible_applicants=opp.eligible_applicants,
        score=round(match.score, 1), matched_keywords=list(expl.get("matched_keywords", [])),
        shared_targets=list(expl.get("shared_sdg_targets", [])), shared_goals=list(expl.get("shared_sdg_goals", [])),
        best_passage=expl.get("best_passage"), unknown_filters=list(expl.get("unknown_filters", [])),
    )


def _group(items: list[DigestItem]) -> list[DigestGroup]:
    groups: dict[str, list[DigestItem]] = {}
    for item in items:
        groups.setdefault(item.profile_title, []).append(item)
    ordered = sorted(groups.items(), key=lambda kv: -max(i.score for i in kv[1]))
    return [DigestGroup(title, sorted(items, key=lambda i: (-i.score, i.deadline or datetime.max.replace(tzinfo=BOGOTA))))
            for title, items in ordered]


def _matches(session: Session, municipality: Municipality, opportunity_ids: list[int] | None = None) -> list[Match]:
    query = (
        select(Match)
        .options(selectinload(Match.opportunity), selectinload(Match.profile))
        .where(Match.municipality_id == municipality.id, Match.above_threshold.is_(True))
    )
    if opportunity_ids is not None:
        query = query.where(Match.opportunity_id.in_(opportunity_ids))
    return list(session.scalars(query))


def collect_digest(session: Session, municipality: Municipality, period: str, today: date, max_items: int) -> Digest:
    """The period's new matches: decided on first call (and recorded), reused on every later one."""
    recorded = list(session.scalars(select(DigestEntry).where(
        DigestEntry.municipality_id == municipality.id, DigestEntry.period == period, DigestEntry.kind == "new")))
    if recorded:
        chosen_pairs = {(e.opportunity_id, e.profile_id) for e in recorded}
        matches = [m for m in _matches(session, municipality, [e.opportunity_id for e in recorded])
                   if (m.opportunity_id, m.profile_id) in chosen_pairs]
        items = [_item(m, today) for m in matches]
    else:
        already = set(session.scalars(select(DigestEntry.opportunity_id).where(
            DigestEntry.municipality_id == municipality.id, DigestEntry.kind == "new")))
        candidates = sorted(
            (m for m in _matches(session, municipality) if m.opportunity_id not in already),
            key=lambda m: (-m.score, m.opportunity.deadline.timestamp() if m.opportunity.deadline else float("inf")),
        )
        best_per_call: dict[int, Match] = {}
        for m in candidates:
            best_per_call.setdefault(m.opportunity_id, m)
        chosen = list(best_per_call.values())[:max_items]
        items = [_item(m, today) for m in chosen]
        session.add_all(DigestEntry(municipality_id=municipality.id, opportunity_id=m.opportunity_id,
                                    profile_id=m.profile_id, period=period, kind="new", score=m.score) for m in chosen)
        session.flush()
    joint: list[DigestItem] = []
    if municipality.is_metropolitan:
        joint = joint_calls(session, today)
    return Digest(municipality.slug, municipality.name, municipality.is_metropolitan, period, today, _group(items), joint)


def joint_calls(session: Session, today: date) -> list[DigestItem]:
    """Calls that fit three or more municipalities: candidates for a joint application."""
    rows = list(session.scalars(
        select(Match).options(selectinload(Match.opportunity), selectinload(Match.profile), selectinload(Match.municipality))
        .where(Match.joint_call.is_(True))
    ))
    by_opp: dict[int, list[Match]] = {}
    for m in rows:
        by_opp.setdefault(m.opportunity_id, []).append(m)
    items = []
    for matches in by_opp.values():
        best = max(matches, key=lambda m: m.score)
        item = _item(best, today)
        item.municipalities = sorted({m.municipality.name for m in matches if not m.municipality.is_metropolitan})
        items.append(item)
    return sorted(items, key=lambda i: (-len(i.municipalities), -i.score))
