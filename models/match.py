"""A scored (profile, opportunity) pair with its components and explanation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

if TYPE_CHECKING:
    from models.feedback import Feedback
    from models.municipality import Municipality, Profile
    from models.opportunity import Opportunity


class Match(Base):
    __tablename__ = "match"
    __table_args__ = (
        UniqueConstraint("profile_id", "opportunity_id"),
        Index("ix_match_municipality_score", "municipality_id", "score"),
        # Covers the web list's filter, count and sort, so they never read the wide explanation rows.
        Index("ix_match_list", "municipality_id", "score", "passed_filters", "status", "profile_id", "opportunity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id", ondelete="CASCADE"))
    profile_id: Mapped[int] = mapped_column(ForeignKey("profile.id", ondelete="CASCADE"), index=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    passed_filters: Mapped[bool] = mapped_column(Boolean)
    above_threshold: Mapped[bool] = mapped_column(Boolean, default=False)
    components: Mapped[dict[str, Any]]
    explanation: Mapped[dict[str, Any]]
    model_id: Mapped[str] = mapped_column(String(200))
    joint_call: Mapped[bool] = mapped_column(Boolean, default=False)
    # new / reviewed / applying / dismissed — driven by feedback.
    status: Mapped[str] = mapped_column(String(16), default="new")
    first_matched_at: Mapped[datetime] = mapped_column(default=utcnow)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    municipality: Mapped[Municipality] = relationship()
    profile: Mapped[Profile] = relationship(back_populates="matches")
    opportunity: Mapped[Opportunity] = relationship()
    feedback: Mapped[list[Feedback]] = relationship(back_populates="match", order_by="Feedback.id")
