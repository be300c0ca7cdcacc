"""Opportunities (funding calls), their source links, their change history and SDG tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, PortableJSON, utcnow

# Fields whose change is news (a version row, and the digest's "Cambios" section).
TRACKED_FIELDS: tuple[str, ...] = (
    "title",
    "description",
    "status",
    "opens_at",
    "deadline",
    "deadlines",
    "amount_min",
    "amount_max",
    "currency",
    "cooperation_type",
    "eligible_countries",
    "eligible_applicants",
    "url",
)


class Opportunity(Base):
    __tablename__ = "opportunity"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_opportunity_deadline", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The source that first published the call owns its fields; later sources add links.
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(2))
    funder: Mapped[str | None] = mapped_column(String(300))
    cooperation_type: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(16))
    opens_at: Mapped[datetime | None]
    deadline: Mapped[datetime | None]
    deadlines: Mapped[list[str]] = mapped_column(default=list)
    amount_min: Mapped[float | None] = mapped_column(Float)
    amount_max: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    amount_cop: Mapped[float | None] = mapped_column(Float)
    eligible_countries: Mapped[list[str] | None] = mapped_column(default=None)
    eligible_applicants: Mapped[list[str] | None] = mapped_column(default=None)
    cofinancing_required: Mapped[float | None] = mapped_column(Float)
    topics: Mapped[list[str]] = mapped_column(default=list)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    links: Mapped[list[OpportunityLink]] = relationship(
        back_populates="opportunity", order_by="OpportunityLink.id", cascade="all, delete-orphan"
    )
    versions: Mapped[list[OpportunityVersion]] = relationship(
        back_populates="opportunity", order_by="OpportunityVersion.id", cascade="all, delete-orphan"
    )
    sdg_tags: Mapped[list[SdgTag]] = relationship(
        back_populates="opportunity", order_by="SdgTag.score.desc()", cascade="all, delete-orphan"
    )


class OpportunityLink(Base):
    """Every (source, source_id) that published a call; dedup merges links onto one opportunity."""

    __tablename__ = "opportunity_link"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(1000), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    opportunity: Mapped[Opportunity] = relationship(back_populates="links")


class OpportunityVersion(Base):
    """One row per change of one tracked field."""

    __tablename__ = "opportunity_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"), index=True)
    source_run_id: Mapped[int | None] = mapped_column(ForeignKey("source_run.id", ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(PortableJSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(PortableJSON, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    opportunity: Mapped[Opportunity] = relationship(back_populates="versions")


class SdgTag(Base):
    __tablename__ = "sdg_tag"
    __table_args__ = (UniqueConstraint("opportunity_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(8))  # "11" (goal) or "11.2" (target)
    level: Mapped[str] = mapped_column(String(8))  # goal / target
    score: Mapped[float] = mapped_column(Float)
    model_id: Mapped[str] = mapped_column(String(200))

    opportunity: Mapped[Opportunity] = relationship(back_populates="sdg_tags")
