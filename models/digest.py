"""Digests: what each edition said, what it listed, and the exactly-once delivery ledger.

An edition is a municipality's message of one period (a weekly digest, or a day's deadline
reminder), rendered once when the send is decided. Its entries say which calls it listed, so
later editions know what was already sent. Its ledger rows, one per recipient, are written in
the same transaction, before any send, and completed after each send.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

# Ledger states. pending → sending → sent; a temporary failure leaves `failed` (retried on the
# next run), a permanent one `rejected` (not retried). `sending` outlives its process only when
# that process died between the send and the commit: the next run resolves it.
LEDGER_STATES: tuple[str, ...] = ("pending", "sending", "sent", "failed", "rejected")


class DigestEdition(Base):
    __tablename__ = "digest_edition"
    __table_args__ = (UniqueConstraint("municipality_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # digest / reminder
    period: Mapped[str] = mapped_column(String(16))  # ISO week for digests (2026-W10), date for reminders
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    subject: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    calendar: Mapped[str | None] = mapped_column(Text)  # the .ics attachment
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)

    entries: Mapped[list[DigestEntry]] = relationship(back_populates="edition", order_by="DigestEntry.id")
    deliveries: Mapped[list[DigestLedger]] = relationship(back_populates="edition", order_by="DigestLedger.id")


class DigestLedger(Base):
    """One row per (municipality, recipient, kind, period): the send happens at most once."""

    __tablename__ = "digest_ledger"
    __table_args__ = (UniqueConstraint("municipality_id", "recipient", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("digest_edition.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="digest", server_default="digest")
    recipient: Mapped[str] = mapped_column(String(320))
    period: Mapped[str] = mapped_column(String(16))  # ISO week, e.g. 2026-W48; a date for reminders
    message_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # see LEDGER_STATES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    transport: Mapped[str | None] = mapped_column(String(16))  # smtp / outbox
    # host:pid of the process that claimed the send: a dead claimer means a crash to resolve.
    claimed_by: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    edition: Mapped[DigestEdition | None] = relationship(back_populates="deliveries")


class DigestEntry(Base):
    """One call listed by one edition, and in which section (new / closing / change / joint / reminder)."""

    __tablename__ = "digest_entry"
    __table_args__ = (UniqueConstraint("municipality_id", "opportunity_id", "period", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id", ondelete="CASCADE"), index=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunity.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("profile.id", ondelete="SET NULL"))
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("digest_edition.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # new / closing / change / joint / reminder
    score: Mapped[float | None]
    # For changes: the newest opportunity_version id this entry covers, so no change is told twice.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    edition: Mapped[DigestEdition | None] = relationship(back_populates="entries")
