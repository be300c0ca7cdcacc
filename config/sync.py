"""Mirror validated municipality configs into the database (municipality and profile rows)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.loader import LoadedMunicipality
from models import Municipality, Profile


def sync_municipalities(session: Session, loaded: list[LoadedMunicipality]) -> list[Municipality]:
    """Insert or update each municipality and its profiles; a profile gone from YAML is deactivated."""
    rows: list[Municipality] = []
    for item in loaded:
        cfg = item.config
        row = session.scalars(select(Municipality).where(Municipality.slug == item.slug)).first()
        if row is None:
            row = Municipality(slug=item.slug, name=cfg.municipality, config={}, config_hash="")
            session.add(row)
        row.name = cfg.municipality
        row.dane_code = cfg.dane_code
        row.is_metropolitan = cfg.is_metropolitan
        if row.config_hash != item.config_hash:
            row.config = cfg.model_dump(mode="json")
            row.config_hash = item.config_hash
        session.flush()
        existing = {p.slug: p for p in row.profiles}
        for profile in cfg.profiles:
            prow = existing.pop(profile.id, None)
            if prow is None:
                prow = Profile(municipality=row, slug=profile.id)
                session.add(prow)
            prow.title = profile.title
            prow.description = profile.description
            prow.sector = profile.sector
            prow.sdg_targets = list(profile.sdg_targets)
            prow.keywords = list(profile.keywords)
            prow.exclude = list(profile.exclude)
            prow.budget_min = profile.budget.min if profile.budget else None
            prow.budget_max = profile.budget.max if profile.budget else None
            prow.budget_currency = profile.budget.currency if profile.budget else None
            prow.cooperation_types = list(profile.cooperation_types)
            prow.min_lead_days = cfg.lead_days(profile)
            prow.active = True
        for stale in existing.values():
            stale.active = False
        rows.append(row)
    session.flush()
    return rows
