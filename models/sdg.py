"""Official SDG texts imported by an operator (`convoca sdg import`): extra target descriptions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class SdgText(Base):
    __tablename__ = "sdg_text"
    __table_args__ = (UniqueConstraint("code", "language", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8))  # "11" (goal) or "11.2" (target)
    language: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64))  # e.g. "un-sdg-api", "csv"
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
