"""Municipalities and their project profiles, mirrored from config/municipalities/*.yaml."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

if TYPE_CHECKING:
    from models.match import Match


class Municipality(Base):
    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    dane_code: Mapped[str | None] = mapped_column(String(5))
    is_metropolitan: Mapped[bool] = mapped_column(Boolean, default=False)
    # The validated config as loaded, so services can act without re-reading YAML.
    config: Mapped[dict[str, Any]]
    config_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    profiles: Mapped[list[Profile]] = relationship(back_populates="municipality", order_by="Profile.id")


class Profile(Base):
    __tablename__ = "profile"
    __table_args__ = (UniqueConstraint("municipality_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    sector: Mapped[str] = mapped_column(String(200))
    sdg_targets: Mapped[list[str]]
    keywords: Mapped[list[str]]
    exclude: Mapped[list[str]]
    budget_min: Mapped[float | None] = mapped_column(Float)
    budget_max: Mapped[float | None] = mapped_column(Float)
    budget_currency: Mapped[str | None] = mapped_column(String(3))
    cooperation_types: Mapped[list[str]]
    min_lead_days: Mapped[int] = mapped_column(Integer)
    # A profile removed from YAML is deactivated, not deleted: its matches and feedback stay.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    municipality: Mapped[Municipality] = relationship(back_populates="profiles")
    matches: Mapped[list[Match]] = relationship(back_populates="profile")
