"""Deliver the due digests: collect → render → ledger → send → complete.

Exactly once per (municipality, recipient, period): the ledger row, with a stable Message-ID,
is committed before the send and completed after it. A completed row is never sent again; a
pending or failed one is retried with the same Message-ID, so a crash between send and commit
costs at most a duplicate the receiving server can recognise, never a loss.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from convoca.settings import Settings
from models import DigestLedger, Municipality
from notifier.digest import Digest, collect_digest, period_of, today_in_bogota
from notifier.render import Rendered, render
from notifier.send import NotifyError, PermanentSendError, Sender

log = structlog.stdlib.get_logger("convoca.notifier")


@dataclass
class Delivery:
    municipality: str
    recipient: str
    period: str
    status: str  # sent / skipped_sent / failed / empty
    subject: str | None = None
    message_id: str | None = None
    error: str | None = None


def message_id_for(slug: str, recipient: str, period: str) -> str:
    digest = hashlib.sha256(f"{slug}|{recipient.lower()}|{period}".encode()).hexdigest()[:16]
    return f"<digest.{slug}.{period}.{digest}@convoca.amva.example.gov.co>"


def build_message(rendered: Rendered, *, sender: str, recipient: str, message_id: str, date: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["Content-Language"] = "es-CO"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


def _recipients(municipality: Municipality) -> list[tuple[str, str]]:
    return [(r["name"], r["email"]) for r in municipality.config.get("recipients", [])]


def _ledger(session: Session, municipality: Municipality, recipient: str, period: str) -> DigestLedger:
    row = session.scalars(select(DigestLedger).where(
        DigestLedger.municipality_id == municipality.id, DigestLedger.recipient == recipient,
        DigestLedger.period == period)).first()
    if row is None:
        row = DigestLedger(municipality_id=municipality.id, recipient=recipient, period=period,
                           message_id=message_id_for(municipality.slug, recipient, period), status="pending",
                           attempts=0, details={})
        session.add(row)
    return row


def prepare_digest(session: Session, settings: Settings, municipality: Municipality, now: datetime) -> tuple[Digest, Rendered | None]:
    today = today_in_bogota(now)
    period = period_of(today)
    max_items = int(municipality.config.get("digest", {}).get("max_items", 15))
    digest = collect_digest(session, municipality, period, today, max_items)
    if digest.is_empty:
        return digest, None
    return digest, render("digest", digest.context(settings.base_url))


def deliver_digest(session: Session, settings: Settings, sender: Sender, municipality: Municipality,
                   *, now: datetime | None = None) -> list[Delivery]:
    now = now or datetime.now(UTC)
    digest, rendered = prepare_digest(session, settings, municipality, now)
    if rendered is None:
        session.commit()
        log.info("digest_empty", municipality=municipality.slug, period=digest.period)
        return [Delivery(municipality.slug, "", digest.period, "empty")]
    results: list[Delivery] = []
    for name, email in _recipients(municipality):
        ledger = _ledger(session, municipality, email, digest.period)
        if ledger.status == "sent":
            results.append(Delivery(municipality.slug, email, digest.period, "skipped_sent", ledger.subject, ledger.message_id))
            continue
        ledger.attempts += 1
        ledger.subject = rendered.subject
        ledger.transport = sender.name
        ledger.details = {"items": len(digest.items), "joint_calls": len(digest.joint_calls)}
        session.commit()  # the decision to send is durable before the send
        to = f"{name} <{email}>" if name else email
        message = build_message(rendered, sender=settings.mail_from, recipient=to, message_id=ledger.message_id, date=now)
        try:
            sender.send(message)
        except NotifyError as exc:
            ledger.status = "failed"
            ledger.last_error = str(exc)[:1000]
            session.commit()
            level = "permanent" if isinstance(exc, PermanentSendError) else "temporary"
            log.warning("digest_send_failed", municipality=municipality.slug, recipient=email,
                        period=digest.period, kind=level, error=str(exc))
            results.append(Delivery(municipality.slug, email, digest.period, "failed", rendered.subject,
                                    ledger.message_id, str(exc)))
            continue
        ledger.status = "sent"
        ledger.sent_at = datetime.now(UTC)
        ledger.last_error = None
        session.commit()
        log.info("digest_sent", municipality=municipality.slug, recipient=email, period=digest.period,
                 transport=sender.name, message_id=ledger.message_id)
        results.append(Delivery(municipality.slug, email, digest.period, "sent", rendered.subject, ledger.message_id))
    return results


def deliver_all(session: Session, settings: Settings, sender: Sender, *, now: datetime | None = None,
                only: list[str] | None = None) -> list[Delivery]:
    results: list[Delivery] = []
    for municipality in session.scalars(select(Municipality).order_by(Municipality.slug)):
        if only and municipality.slug not in only:
            continue
        results.extend(deliver_digest(session, settings, sender, municipality, now=now))
    return results


__all__ = ["Delivery", "build_message", "deliver_all", "deliver_digest", "message_id_for", "prepare_digest"]
