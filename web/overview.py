"""The AMVA overview: matches per municipality, joint calls, source health, digest ledger."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crawlers.service import SourceHealth, source_health
from models import DigestLedger, Feedback, Match, Municipality, Opportunity
from notifier.digest import JointItem, open_joint_calls
from web.matches import start_of_day_utc


@dataclass
class MunicipalityCounts:
    slug: str
    name: str
    is_metropolitan: bool
    by_status: dict[str, int] = field(default_factory=dict)
    closing_soon: int = 0
    feedback: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass
class LedgerStatus:
    slug: str
    name: str
    last_period: str | None = None
    by_status: dict[str, int] = field(default_factory=dict)
    last_sent_at: datetime | None = None
    last_error: str | None = None


@dataclass
class Overview:
    municipalities: list[MunicipalityCounts]
    joint_calls: list[JointItem]
    sources: list[SourceHealth]
    ledger: list[LedgerStatus]

    @property
    def unhealthy_sources(self) -> list[SourceHealth]:
        return [s for s in self.sources if not s.healthy]


def amva_overview(session: Session, today: date, *, closing_days: int = 30) -> Overview:
    municipalities = list(session.scalars(select(Municipality).order_by(Municipality.is_metropolitan, Municipality.name)))
    counts = {m.id: MunicipalityCounts(m.slug, m.name, m.is_metropolitan) for m in municipalities}
    live = or_(Opportunity.deadline.is_(None), Opportunity.deadline >= start_of_day_utc(today))
    shown = (Match.above_threshold.is_(True), Match.passed_filters.is_(True), live)
    for mid, status, n in session.execute(
        select(Match.municipality_id, Match.status, func.count(Match.id))
        .join(Opportunity, Opportunity.id == Match.opportunity_id).where(*shown)
        .group_by(Match.municipality_id, Match.status)
    ):
        counts[mid].by_status[status] = int(n)
    for mid, n in session.execute(
        select(Match.municipality_id, func.count(Match.id)).join(Opportunity, Opportunity.id == Match.opportunity_id)
        .where(*shown, Match.status != "dismissed", Opportunity.deadline.is_not(None),
               Opportunity.deadline < start_of_day_utc(today + timedelta(days=closing_days + 1)))
        .group_by(Match.municipality_id)
    ):
        counts[mid].closing_soon = int(n)
    for mid, n in session.execute(select(Feedback.municipality_id, func.count(Feedback.id)).group_by(Feedback.municipality_id)):
        if mid in counts:
            counts[mid].feedback = int(n)

    ledger = {m.id: LedgerStatus(m.slug, m.name) for m in municipalities}
    rows = session.execute(
        select(DigestLedger.municipality_id, DigestLedger.period, DigestLedger.status, func.count(DigestLedger.id),
               func.max(DigestLedger.sent_at))
        .group_by(DigestLedger.municipality_id, DigestLedger.period, DigestLedger.status)
    ).all()
    per_period: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for mid, period, status, n, sent_at in rows:
        per_period[mid][period][status] = int(n)
        entry = ledger.get(mid)
        if entry is not None and sent_at is not None and (entry.last_sent_at is None or sent_at > entry.last_sent_at):
            entry.last_sent_at = sent_at
    for mid, periods in per_period.items():
        if mid in ledger:
            latest = max(periods)
            ledger[mid].last_period, ledger[mid].by_status = latest, periods[latest]
    for mid, error in session.execute(
        select(DigestLedger.municipality_id, DigestLedger.last_error)
        .where(DigestLedger.status == "failed").order_by(DigestLedger.id)
    ):
        if mid in ledger:
            ledger[mid].last_error = error

    return Overview(list(counts.values()), open_joint_calls(session, today), source_health(session), list(ledger.values()))
