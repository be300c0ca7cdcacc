"""Collect what one edition of a municipality's digest (or reminder) lists.

Collection reads the database and returns data: the sections to render and the entries to
record. It writes nothing; the delivery service records the entries, the rendered message and
the ledger rows in one transaction, so every recipient and every retry gets the same message.

Sections of a weekly digest:
- new: the best matches not listed before (one line per call, under its best profile), capped;
- closing: calls listed before whose effective deadline (deadline − lead time) is within 14 days;
- changes: calls listed before whose deadline or amount changed since they were last told;
- joint: for AMVA, calls that fit three or more municipalities, told once.
A reminder lists calls listed before whose effective deadline is within 3 days, told once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models import DigestEntry, Match, Municipality, Opportunity, OpportunityVersion, Profile
from notifier.formatting import BOGOTA, days_until, local_date

CLOSING_SOON_DAYS = 14
REMINDER_DAYS = 3
JOINT_CALLS_MAX = 10
CHANGE_FIELDS = ("deadline", "amount_min", "amount_max", "currency")
DEFAULT_LEAD_DAYS = 21


def digest_period(day: date) -> str:
    """The ISO week a weekly digest belongs to, e.g. '2026-W10'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def reminder_period(day: date) -> str:
    """The day a reminder belongs to, e.g. '2026-03-02'."""
    return day.isoformat()


def today_in_bogota(now: datetime) -> date:
    return now.astimezone(BOGOTA).date()


# ------------------------------------------------------------------ data the templates render

@dataclass
class CallView:
    """What a message shows of one call. None means the source does not say: 'no indicado'."""

    opportunity_id: int
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
    lead_days: int
    effective_deadline: date | None
    days_to_effective: int | None
    eligible_countries: list[str] | None
    eligible_applicants: list[str] | None
    cofinancing_required: float | None
    deadline_revision: int = 0  # how many times the deadline changed: the .ics SEQUENCE


@dataclass
class Reason:
    matched_keywords: list[str]
    shared_targets: list[str]
    shared_goals: list[str]


@dataclass
class NewItem:
    call: CallView
    profile_title: str
    score: float
    reason: Reason
    unknown_filters: list[str]
    rank: int = 0  # position in the message, counted across profiles


@dataclass
class ProfileGroup:
    profile_title: str
    items: list[NewItem]


@dataclass
class ClosingItem:
    call: CallView
    profile_title: str


@dataclass
class FieldChange:
    field: str  # deadline / amount_min / amount_max / currency
    old: Any
    new: Any


@dataclass
class ChangeItem:
    call: CallView
    profile_title: str
    changes: list[FieldChange]


@dataclass
class JointItem:
    call: CallView
    municipalities: list[str]
    score: float


@dataclass(frozen=True)
class PlannedEntry:
    opportunity_id: int
    profile_id: int | None
    kind: str
    score: float | None
    details: dict[str, Any]


@dataclass
class Digest:
    kind: str  # digest / reminder
    municipality_slug: str
    municipality_name: str
    is_metropolitan: bool
    period: str
    today: date
    groups: list[ProfileGroup] = field(default_factory=list)
    closing: list[ClosingItem] = field(default_factory=list)
    changes: list[ChangeItem] = field(default_factory=list)
    joint: list[JointItem] = field(default_factory=list)
    reminders: list[ClosingItem] = field(default_factory=list)
    entries: list[PlannedEntry] = field(default_factory=list)

    @property
    def items(self) -> list[NewItem]:
        return [item for group in self.groups for item in group.items]

    @property
    def week_start(self) -> date:
        return self.today - timedelta(days=self.today.weekday())

    @property
    def is_empty(self) -> bool:
        return not (self.items or self.closing or self.changes or self.joint or self.reminders)

    @property
    def counts(self) -> dict[str, int]:
        return {"new": len(self.items), "closing": len(self.closing), "changes": len(self.changes),
                "joint": len(self.joint), "reminders": len(self.reminders)}

    @property
    def has_deadlines(self) -> bool:
        return any(c.deadline is not None for c in self.calls())

    def calls(self) -> list[CallView]:
        """Every listed call once, in the order shown: the deadlines of the .ics."""
        seen: dict[int, CallView] = {}
        listed: Iterable[CallView] = (
            [i.call for i in self.items] + [c.call for c in self.closing] + [c.call for c in self.changes]
            + [j.call for j in self.joint] + [r.call for r in self.reminders])
        for call in listed:
            seen.setdefault(call.opportunity_id, call)
        return list(seen.values())

    def context(self, web_url: str) -> dict[str, Any]:
        base = web_url.rstrip("/")
        return {"digest": self, "municipality": self.municipality_name,
                "matches_url": f"{base}/m/{self.municipality_slug}/coincidencias"}


# ------------------------------------------------------------------ building blocks

def _lead_days(profile: Profile | None, municipality: Municipality) -> int:
    if profile is not None:
        return profile.min_lead_days
    return int(municipality.config.get("defaults", {}).get("min_lead_days", DEFAULT_LEAD_DAYS))


def _call(opp: Opportunity, lead_days: int, today: date, revision: int = 0) -> CallView:
    effective = local_date(opp.deadline) - timedelta(days=lead_days) if opp.deadline else None
    return CallView(
        opportunity_id=opp.id, title=opp.title, url=opp.url, funder=opp.funder,
        cooperation_type=opp.cooperation_type, amount_min=opp.amount_min, amount_max=opp.amount_max,
        currency=opp.currency, amount_cop=opp.amount_cop, deadline=opp.deadline,
        days_left=days_until(opp.deadline, today), lead_days=lead_days, effective_deadline=effective,
        days_to_effective=days_until(effective, today), eligible_countries=opp.eligible_countries,
        eligible_applicants=opp.eligible_applicants, cofinancing_required=opp.cofinancing_required,
        deadline_revision=revision,
    )


def _reason(explanation: dict[str, Any]) -> Reason:
    return Reason(matched_keywords=list(explanation.get("matched_keywords", []))[:4],
                  shared_targets=list(explanation.get("shared_sdg_targets", [])),
                  shared_goals=list(explanation.get("shared_sdg_goals", [])))


def _is_open(opp: Opportunity, today: date) -> bool:
    if opp.status == "closed":
        return False
    return opp.deadline is None or local_date(opp.deadline) >= today


def _deadline_revisions(session: Session, opportunity_ids: Iterable[int]) -> dict[int, int]:
    ids = list(set(opportunity_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(OpportunityVersion.opportunity_id, func.count())
        .where(OpportunityVersion.opportunity_id.in_(ids), OpportunityVersion.field == "deadline")
        .group_by(OpportunityVersion.opportunity_id))
    return {oid: int(n) for oid, n in rows}


def _latest_versions(session: Session, opportunity_ids: Iterable[int]) -> dict[int, int]:
    ids = list(set(opportunity_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(OpportunityVersion.opportunity_id, func.max(OpportunityVersion.id))
        .where(OpportunityVersion.opportunity_id.in_(ids)).group_by(OpportunityVersion.opportunity_id))
    return {oid: int(vid) for oid, vid in rows}


@dataclass
class _Listed:
    """A call a municipality was already told about, with the profile it was listed under."""

    opportunity: Opportunity
    profile: Profile | None
    told_version: int  # newest version already covered by an entry

    @property
    def profile_id(self) -> int | None:
        return self.profile.id if self.profile is not None else None


def _listed_before(session: Session, municipality: Municipality, period: str) -> dict[int, _Listed]:
    entries = list(session.scalars(
        select(DigestEntry).where(DigestEntry.municipality_id == municipality.id,
                                  DigestEntry.kind.in_(("new", "change")))
        .order_by(DigestEntry.id)))
    first_new: dict[int, DigestEntry] = {}
    for e in entries:
        if e.kind == "new" and e.period != period:
            first_new.setdefault(e.opportunity_id, e)
    if not first_new:
        return {}
    opps = {o.id: o for o in session.scalars(select(Opportunity).where(Opportunity.id.in_(list(first_new))))}
    profile_ids = {e.profile_id for e in first_new.values() if e.profile_id is not None}
    profiles = {p.id: p for p in session.scalars(select(Profile).where(Profile.id.in_(profile_ids)))} if profile_ids else {}
    told: dict[int, int] = defaultdict(int)
    for e in entries:
        told[e.opportunity_id] = max(told[e.opportunity_id], int((e.details or {}).get("version_id", 0)))
    return {oid: _Listed(opps[oid], profiles.get(e.profile_id) if e.profile_id else None, told[oid])
            for oid, e in first_new.items() if oid in opps}


def _dismissed(session: Session, municipality: Municipality) -> set[int]:
    return set(session.scalars(select(Match.opportunity_id).where(
        Match.municipality_id == municipality.id, Match.status == "dismissed")))


# ------------------------------------------------------------------ sections

def _new_items(session: Session, municipality: Municipality, today: date, max_items: int,
               dismissed: set[int]) -> tuple[list[NewItem], list[PlannedEntry]]:
    listed = select(DigestEntry.opportunity_id).where(
        DigestEntry.municipality_id == municipality.id, DigestEntry.kind == "new")
    candidates = [
        m for m in session.scalars(
            select(Match).options(selectinload(Match.opportunity), selectinload(Match.profile))
            .where(Match.municipality_id == municipality.id, Match.above_threshold.is_(True),
                   Match.opportunity_id.not_in(listed)))
        if m.profile.active and m.opportunity_id not in dismissed and _is_open(m.opportunity, today)
    ]
    far = datetime.max.replace(tzinfo=BOGOTA)
    candidates.sort(key=lambda m: (-m.score, m.opportunity.deadline or far, m.opportunity_id))
    best: dict[int, Match] = {}
    for m in candidates:
        best.setdefault(m.opportunity_id, m)
    chosen = list(best.values())[:max_items]
    revisions = _deadline_revisions(session, best)
    versions = _latest_versions(session, [m.opportunity_id for m in chosen])
    items = [NewItem(call=_call(m.opportunity, m.profile.min_lead_days, today, revisions.get(m.opportunity_id, 0)),
                     profile_title=m.profile.title, score=round(m.score, 1), reason=_reason(m.explanation or {}),
                     unknown_filters=list((m.explanation or {}).get("unknown_filters", [])))
             for m in chosen]
    entries = [PlannedEntry(m.opportunity_id, m.profile_id, "new", m.score,
                            {"version_id": versions.get(m.opportunity_id, 0)}) for m in chosen]
    return items, entries


def _group(items: list[NewItem]) -> list[ProfileGroup]:
    """Profiles in the order of their best item; items keep their rank inside each profile."""
    groups: dict[str, list[NewItem]] = {}
    for item in items:
        groups.setdefault(item.profile_title, []).append(item)
    ordered = [ProfileGroup(title, members) for title, members in groups.items()]
    for rank, item in enumerate((i for g in ordered for i in g.items), start=1):
        item.rank = rank
    return ordered


def _closing(listed: dict[int, _Listed], municipality: Municipality, today: date, window: int,
             dismissed: set[int], revisions: dict[int, int]) -> list[ClosingItem]:
    items = []
    for oid, entry in listed.items():
        if oid in dismissed or not _is_open(entry.opportunity, today):
            continue
        call = _call(entry.opportunity, _lead_days(entry.profile, municipality), today, revisions.get(oid, 0))
        if call.days_to_effective is not None and 0 <= call.days_to_effective <= window:
            items.append(ClosingItem(call, entry.profile.title if entry.profile else ""))
    return sorted(items, key=lambda i: (i.call.effective_deadline, i.call.opportunity_id))


def _changes(session: Session, listed: dict[int, _Listed], municipality: Municipality, today: date,
             dismissed: set[int], revisions: dict[int, int]) -> tuple[list[ChangeItem], list[PlannedEntry]]:
    if not listed:
        return [], []
    versions = list(session.scalars(
        select(OpportunityVersion)
        .where(OpportunityVersion.opportunity_id.in_(list(listed)), OpportunityVersion.field.in_(CHANGE_FIELDS))
        .order_by(OpportunityVersion.id)))
    pending: dict[int, list[OpportunityVersion]] = defaultdict(list)
    for v in versions:
        if v.id > listed[v.opportunity_id].told_version:
            pending[v.opportunity_id].append(v)
    items: list[ChangeItem] = []
    entries: list[PlannedEntry] = []
    for oid, rows in pending.items():
        entry = listed[oid]
        if oid in dismissed or entry.opportunity.status == "closed":
            continue
        first_old: dict[str, Any] = {}
        last_new: dict[str, Any] = {}
        for v in rows:
            first_old.setdefault(v.field, v.old_value)
            last_new[v.field] = v.new_value
        changes = [FieldChange(f, _typed(f, first_old[f]), _typed(f, last_new[f]))
                   for f in CHANGE_FIELDS if f in last_new and first_old[f] != last_new[f]]
        if not changes:
            continue
        call = _call(entry.opportunity, _lead_days(entry.profile, municipality), today, revisions.get(oid, 0))
        items.append(ChangeItem(call, entry.profile.title if entry.profile else "", changes))
        entries.append(PlannedEntry(oid, entry.profile_id, "change", None,
                                    {"version_id": rows[-1].id, "fields": [c.field for c in changes]}))
    items.sort(key=lambda i: i.call.opportunity_id)
    return items, entries


def _typed(field_name: str, value: Any) -> Any:
    """Version rows keep JSON values; a deadline comes back as an ISO string."""
    if field_name == "deadline" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


def open_joint_calls(session: Session, today: date, *, exclude: Any = None) -> list[JointItem]:
    """Open calls that fit three or more municipalities (joint-application candidates), best first.

    Shared by AMVA's digest and the web overview. `exclude` is a subquery of opportunity ids to leave out.
    """
    query = (
        select(Match).options(selectinload(Match.opportunity), selectinload(Match.profile),
                              selectinload(Match.municipality))
        .where(Match.joint_call.is_(True), Match.above_threshold.is_(True))
    )
    if exclude is not None:
        query = query.where(Match.opportunity_id.not_in(exclude))
    by_opp: dict[int, list[Match]] = defaultdict(list)
    for m in session.scalars(query):
        if _is_open(m.opportunity, today):
            by_opp[m.opportunity_id].append(m)
    items = []
    for matches in by_opp.values():
        names = sorted({m.municipality.name for m in matches if not m.municipality.is_metropolitan})
        best = max(matches, key=lambda m: m.score)
        items.append(JointItem(_call(best.opportunity, best.profile.min_lead_days, today), names, round(best.score, 1)))
    items.sort(key=lambda i: (-len(i.municipalities), -i.score, i.call.opportunity_id))
    return items


def _joint(session: Session, municipality: Municipality, today: date) -> tuple[list[JointItem], list[PlannedEntry]]:
    told = select(DigestEntry.opportunity_id).where(
        DigestEntry.municipality_id == municipality.id, DigestEntry.kind == "joint")
    items = open_joint_calls(session, today, exclude=told)[:JOINT_CALLS_MAX]
    entries = [PlannedEntry(i.call.opportunity_id, None, "joint", i.score, {"municipalities": i.municipalities})
               for i in items]
    return items, entries


# ------------------------------------------------------------------ editions

def collect_digest(session: Session, municipality: Municipality, today: date, max_items: int) -> Digest:
    """The weekly digest's sections for `today`'s ISO week."""
    period = digest_period(today)
    digest = Digest("digest", municipality.slug, municipality.name, municipality.is_metropolitan, period, today)
    dismissed = _dismissed(session, municipality)
    items, entries = _new_items(session, municipality, today, max_items, dismissed)
    digest.groups = _group(items)
    listed = _listed_before(session, municipality, period)
    revisions = _deadline_revisions(session, listed)
    digest.closing = _closing(listed, municipality, today, CLOSING_SOON_DAYS, dismissed, revisions)
    entries += [PlannedEntry(c.call.opportunity_id, listed[c.call.opportunity_id].profile_id, "closing", None,
                             {"days_to_effective": c.call.days_to_effective}) for c in digest.closing]
    digest.changes, change_entries = _changes(session, listed, municipality, today, dismissed, revisions)
    entries += change_entries
    if municipality.is_metropolitan:
        digest.joint, joint_entries = _joint(session, municipality, today)
        entries += joint_entries
    digest.entries = entries
    return digest


def collect_reminders(session: Session, municipality: Municipality, today: date, now: datetime) -> Digest:
    """Calls already sent whose effective deadline is within REMINDER_DAYS, each reminded once.

    A call that a digest listed under "Cierran pronto" in the last REMINDER_DAYS days is not
    reminded again so soon.
    """
    period = reminder_period(today)
    digest = Digest("reminder", municipality.slug, municipality.name, municipality.is_metropolitan, period, today)
    recent = now - timedelta(days=REMINDER_DAYS)
    skip = set(session.scalars(select(DigestEntry.opportunity_id).where(
        DigestEntry.municipality_id == municipality.id,
        (DigestEntry.kind == "reminder") | ((DigestEntry.kind == "closing") & (DigestEntry.created_at >= recent)))))
    listed = {oid: e for oid, e in _listed_before(session, municipality, period).items() if oid not in skip}
    revisions = _deadline_revisions(session, listed)
    digest.reminders = _closing(listed, municipality, today, REMINDER_DAYS, _dismissed(session, municipality), revisions)
    digest.entries = [PlannedEntry(r.call.opportunity_id, listed[r.call.opportunity_id].profile_id, "reminder", None,
                                   {"days_to_effective": r.call.days_to_effective}) for r in digest.reminders]
    return digest
