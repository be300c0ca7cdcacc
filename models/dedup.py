"""Near-duplicate keys of an opportunity: MinHash band keys of its title (crawlers/dedupe.py).

Calls that share a key are candidates for being the same call published by two sources; the
candidates are then compared properly. The keys live in the database so that every crawl
process sees every other's calls, not only those of its own run.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class DedupKey(Base):
    __tablename__ = "opportunity_dedup_key"
    __table_args__ = (Index("ix_opportunity_dedup_key_key", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
