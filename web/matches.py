"""Match list and detail queries for one municipality. Routes and exports call these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import Feedback, Match, Municipality, Opportunity, OpportunityVersion, Profile, SdgTag
from notifier.formatting import BOGOTA
from web.filters import MatchFilters
from web.present import reason_line


@dataclass(frozen=True)
class MatchRow:
    match_id: int
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
    language: str | None
    score: float
    status: str
    joint_call: bool
    profile_slug: str
    profile_title: str
    reason: str


@dataclass(frozen=True)
class MatchPage:
    rows: list[MatchRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class OtherFit:
    slug: str
    name: str
    score: float
    profiles: int


@dataclass
class MatchDetail:
    match: Match
    opportunity: Opportunity
    profile: Profile
    explanation: dict[str, Any]
    versions: list[OpportunityVersion]
    feedback: list[Feedback]
    sibling_matches: list[tuple[int, str, float]]  # (match id, profile title, score) in this municipality
    other_municipalities: list[OtherFit] = field(default_factory=list)


# Rows written before a field existed still render: every key the page reads has a default.
EXPLANATION_DEFAULTS: dict[str, Any] = {
    "best_passage": None, "passage_similarity": None, "shared_sdg_targets": [], "shared_sdg_goals": [],
    "matched_keywords": [], "excluded_keywords": [], "filters": [], "breakdown": {},
}


def start_of_day_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=BOGOTA).astimezone(UTC)


_ROW_COLUMNS = (
    Match.id, Match.opportunity_id, Opportunity.title, Opportunity.url, Opportunity.funder,
    Opportunity.cooperation_type, Opportunity.amount_min, Opportunity.amount_max, Opportunity.currency,
    Opportunity.amount_cop, Opportunity.deadline, Opportunity.language, Match.score, Match.status,
    Match.joint_call, Profile.slug, Profile.title, Match.explanation,
)


def _filtered(columns: Any, municipality: Municipality, f: MatchFilters, today: date) -> Select[Any]:
    query = (
        select(*columns)
        .select_from(Match)
        .join(Opportunity, Opportunity.id == Match.opportunity_id)
        .join(Profile, Profile.id == Match.profile_id)
        .where(Match.municipality_id == municipality.id, Match.passed_filters.is_(True), Profile.active.is_(True))
    )
    if f.profile:
        query = query.where(Profile.slug == f.profile)
    if f.sdg:
        code_match = SdgTag.code == f.sdg if "." in f.sdg else or_(SdgTag.code == f.sdg, SdgTag.code.like(f"{f.sdg}.%"))
        query = query.where(exists().where(SdgTag.opportunity_id == Match.opportunity_id, code_match))
    if f.cooperation_type:
        query = query.where(Opportunity.cooperation_type == f.cooperation_type)
    if f.within_days is not None:
        query = query.where(Opportunity.deadline.is_not(None),
                            Opportunity.deadline < start_of_day_utc(today + timedelta(days=f.within_days + 1)))
    if f.min_score is not None:
        query = query.where(Match.score >= f.min_score)
    if f.language:
        query = query.where(Opportunity.language == f.language)
    if f.status == "activas":
        query = query.where(Match.status != "dismissed")
    elif f.status != "todas":
        query = query.where(Match.status == f.status)
    if not f.include_expired:
        query = query.where(or_(Opportunity.deadline.is_(None), Opportunity.deadline >= start_of_day_utc(today)))
    return query


def _ordered(query: Select[Any], f: MatchFilters) -> Select[Any]:
    if f.sort == "cierre":
        return query.order_by(Opportunity.deadline.asc().nulls_last(), Match.score.desc(), Match.id)
    # Ties break towards the nearer deadline (DESIGN §5).
    return query.order_by(Match.score.desc(), Opportunity.deadline.asc().nulls_last(), Match.id)


def _row(r: Any) -> MatchRow:
    return MatchRow(
        match_id=r[0], opportunity_id=r[1], title=r[2], url=r[3], funder=r[4], cooperation_type=r[5],
        amount_min=r[6], amount_max=r[7], currency=r[8], amount_cop=r[9], deadline=r[10], language=r[11],
        score=round(float(r[12]), 1), status=r[13], joint_call=bool(r[14]), profile_slug=r[15], profile_title=r[16],
        reason=reason_line(r[17], r[16]),
    )


def _page_ids(session: Session, municipality: Municipality, f: MatchFilters, today: date, limit: int,
              offset: int) -> list[int]:
    """Sort and cut on narrow rows first; the wide columns (explanation JSON) are read for one page only."""
    return list(session.scalars(_ordered(_filtered((Match.id,), municipality, f, today), f).limit(limit).offset(offset)))


def _rows_by_id(session: Session, ids: list[int]) -> list[MatchRow]:
    if not ids:
        return []
    found = {r[0]: r for r in session.execute(
        select(*_ROW_COLUMNS).select_from(Match)
        .join(Opportunity, Opportunity.id == Match.opportunity_id)
        .join(Profile, Profile.id == Match.profile_id)
        .where(Match.id.in_(ids))
    )}
    return [_row(found[i]) for i in ids if i in found]


def list_matches(session: Session, municipality: Municipality, f: MatchFilters, today: date) -> MatchPage:
    total = session.scalar(_filtered((func.count(Match.id),), municipality, f, today)) or 0
    pages = max(1, -(-total // f.page_size))
    page = min(f.page, pages)
    ids = _page_ids(session, municipality, f, today, f.page_size, (page - 1) * f.page_size)
    return MatchPage(_rows_by_id(session, ids), total, page, pages)


def export_rows(session: Session, municipality: Municipality, f: MatchFilters, today: date, limit: int) -> list[MatchRow]:
    ids = _page_ids(session, municipality, f, today, limit, 0)
    rows: list[MatchRow] = []
    for start in range(0, len(ids), 500):  # bounded IN lists
        rows.extend(_rows_by_id(session, ids[start:start + 500]))
    return rows


def get_match(session: Session, municipality: Municipality, match_id: int) -> Match | None:
    """The match only if it belongs to this municipality: another's id is simply not found."""
    return session.scalars(
        select(Match).where(Match.id == match_id, Match.municipality_id == municipality.id)
    ).first()


def match_detail(session: Session, municipality: Municipality, match_id: int) -> MatchDetail | None:
    match = session.scalars(
        select(Match)
        .options(
            joinedload(Match.opportunity).selectinload(Opportunity.links),
            joinedload(Match.opportunity).selectinload(Opportunity.sdg_tags),
            joinedload(Match.profile),
            selectinload(Match.feedback),
        )
        .where(Match.id == match_id, Match.municipality_id == municipality.id)
    ).first()
    if match is None:
        return None
    opp = match.opportunity
    versions = list(session.scalars(
        select(OpportunityVersion).where(OpportunityVersion.opportunity_id == opp.id)
        .order_by(OpportunityVersion.changed_at.desc(), OpportunityVersion.id.desc()).limit(200)
    ))
    siblings = [(mid, title, round(float(score), 1)) for mid, title, score in session.execute(
        select(Match.id, Profile.title, Match.score).join(Profile, Profile.id == Match.profile_id)
        .where(Match.opportunity_id == opp.id, Match.municipality_id == municipality.id, Match.id != match.id,
               Match.passed_filters.is_(True), Profile.active.is_(True))
        .order_by(Match.score.desc())
    )]
    others = [OtherFit(slug, name, round(float(score), 1), int(n)) for slug, name, score, n in session.execute(
        select(Municipality.slug, Municipality.name, func.max(Match.score), func.count(Match.id))
        .join(Municipality, Municipality.id == Match.municipality_id)
        .where(and_(Match.opportunity_id == opp.id, Match.above_threshold.is_(True),
                    Match.municipality_id != municipality.id))
        .group_by(Municipality.slug, Municipality.name)
        .order_by(func.max(Match.score).desc())
    )]
    return MatchDetail(match=match, opportunity=opp, profile=match.profile, explanation={**EXPLANATION_DEFAULTS, **(match.explanation or {})},
                       versions=versions, feedback=sorted(match.feedback, key=lambda fb: fb.id, reverse=True),
                       sibling_matches=siblings, other_municipalities=others)


def sdg_choices(municipality: Municipality) -> list[str]:
    """SDG targets the municipality's active profiles declare, for the filter's list."""
    codes = {t for p in municipality.profiles if p.active for t in p.sdg_targets}

    def key(code: str) -> tuple[int, int, str]:
        goal, _, target = code.partition(".")
        return (int(goal), int(target) if target.isdigit() else 100, target)

    return sorted(codes, key=key)
