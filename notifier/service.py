"""Deliver digests and reminders exactly once: decide → (commit) → claim → send → complete.

1. Decide: for each municipality and period, collect the edition's sections, render it once,
   and write the edition, its entries and one `pending` ledger row per recipient (with a stable
   Message-ID) in one transaction. Nothing new → nothing is written, nothing is sent.
2. Claim: a ledger row goes `sending` (a conditional UPDATE, committed) before the send.
3. Send, retrying temporary failures with backoff; then complete the row: `sent`, `failed`
   (temporary: the next run retries it) or `rejected` (permanent 5xx: never retried).

A completed (`sent`) row is never sent again. A row left `sending` by a process that died
between the send and the commit is sent again by the next run with the same Message-ID and
the same bytes: the outbox overwrites its file, and a receiving server sees a duplicate it can
recognise, never a different message. A row `sending` under a live process is left alone.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from convoca.settings import Settings
from models import DigestEdition, DigestEntry, DigestLedger, Municipality
from notifier.calendar import build_calendar
from notifier.digest import (
    Digest,
    collect_digest,
    collect_reminders,
    digest_period,
    reminder_period,
    today_in_bogota,
)
from notifier.health import HealthReport, collect_health
from notifier.message import build_message, mail_domain, message_id_for
from notifier.render import Rendered, render
from notifier.send import PermanentSendError, Sender, TemporarySendError, send_with_retry

log = structlog.stdlib.get_logger("convoca.notifier")

KINDS = ("digest", "reminder", "health")
# Undelivered rows older than this are no longer tried: their news is stale.
DELIVERY_HORIZON = timedelta(days=14)
# A `sending` row claimed on another host is taken over only after this long.
SENDING_LEASE = timedelta(minutes=30)
UNDELIVERED = ("pending", "sending", "failed")


@dataclass
class Delivery:
    municipality: str
    recipient: str
    kind: str
    period: str
    status: str  # sent / failed / rejected / deferred / in_progress
    subject: str | None = None
    message_id: str | None = None
    error: str | None = None
    attempts: int = 0


@dataclass
class DeliveryReport:
    decided: list[str] = field(default_factory=list)  # "envigado digest 2026-W10"
    nothing_due: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # editions that could not be decided
    deliveries: list[Delivery] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for d in self.deliveries if d.status == status)

    @property
    def ok(self) -> bool:
        return not self.errors and all(d.status in ("sent", "in_progress") for d in self.deliveries)


@dataclass(frozen=True)
class Preview:
    subject: str
    html: str
    text: str
    calendar: str | None
    stored: bool  # True when the period's edition was already decided


def period_for(kind: str, now: datetime) -> str:
    today = today_in_bogota(now)
    return digest_period(today) if kind == "digest" else reminder_period(today)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_lapsed(claimed_by: str | None, last_attempt: datetime | None, now: datetime) -> bool:
    """Did the process that claimed this send die before completing it?

    On this host a dead PID says so at once; otherwise (another host, or a PID reused by a
    new process) the claim lapses after SENDING_LEASE: no send takes that long.
    """
    if last_attempt is None or now - last_attempt > SENDING_LEASE:
        return True
    host, _, pid_text = (claimed_by or "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # an earlier attempt of this very process ended without completing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# ------------------------------------------------------------------ decide

def collect(session: Session, municipality: Municipality, kind: str, now: datetime) -> Digest | HealthReport:
    today = today_in_bogota(now)
    if kind == "health":
        return collect_health(session, municipality, today, period_for(kind, now))
    if kind == "digest":
        max_items = int(municipality.config.get("digest", {}).get("max_items", 15))
        return collect_digest(session, municipality, today, max_items)
    return collect_reminders(session, municipality, today, now)


def compose(settings: Settings, digest: Digest | HealthReport, now: datetime) -> tuple[Rendered, str | None]:
    calendar = build_calendar(digest, now) if isinstance(digest, Digest) else None
    return render(digest.kind, digest.context(settings.base_url)), calendar


def _edition(session: Session, municipality: Municipality, kind: str, period: str) -> DigestEdition | None:
    return session.scalars(select(DigestEdition).where(
        DigestEdition.municipality_id == municipality.id, DigestEdition.kind == kind,
        DigestEdition.period == period)).first()


def _recipients(municipality: Municipality, kind: str, settings: Settings) -> list[tuple[str, str]]:
    if kind == "health" and settings.operator_addresses:
        return [("Operación Convoca", email.lower()) for email in settings.operator_addresses]
    return [(r.get("name", ""), r["email"].lower()) for r in municipality.config.get("recipients", [])]


def _ensure_ledger(session: Session, settings: Settings, municipality: Municipality, edition: DigestEdition,
                   now: datetime) -> None:
    have = set(session.scalars(select(DigestLedger.recipient).where(
        DigestLedger.municipality_id == municipality.id, DigestLedger.kind == edition.kind,
        DigestLedger.period == edition.period)))
    domain = mail_domain(settings.mail_from)
    for name, email in _recipients(municipality, edition.kind, settings):
        if email in have:
            continue
        session.add(DigestLedger(
            municipality_id=municipality.id, edition_id=edition.id, kind=edition.kind, recipient=email,
            period=edition.period, message_id=message_id_for(edition.kind, municipality.slug, email, edition.period, domain),
            status="pending", attempts=0, subject=edition.subject, details={"name": name}, created_at=now))
        have.add(email)


def decide_edition(session: Session, settings: Settings, municipality: Municipality, kind: str,
                   now: datetime) -> DigestEdition | None:
    """The period's edition, decided now if it is due and not decided yet; None if nothing is due."""
    period = period_for(kind, now)
    edition = _edition(session, municipality, kind, period)
    if edition is None:
        digest = collect(session, municipality, kind, now)
        if digest.is_empty:
            session.rollback()
            return None
        rendered, calendar = compose(settings, digest, now)
        edition = DigestEdition(municipality_id=municipality.id, kind=kind, period=period, decided_at=now,
                                subject=rendered.subject, body_html=rendered.html, body_text=rendered.text,
                                calendar=calendar, counts=digest.counts)
        session.add(edition)
        session.flush()
        session.add_all(DigestEntry(municipality_id=municipality.id, opportunity_id=e.opportunity_id,
                                    profile_id=e.profile_id, edition_id=edition.id, period=period, kind=e.kind,
                                    score=e.score, details=e.details, created_at=now)
                        for e in digest.entries)
        log.info("edition_decided", municipality=municipality.slug, kind=kind, period=period, **digest.counts)
    _ensure_ledger(session, settings, municipality, edition, now)
    try:
        session.commit()  # the edition, its entries and its ledger rows: one decision
    except IntegrityError:
        # Another process decided the same period first; use its edition.
        session.rollback()
        log.info("edition_decided_elsewhere", municipality=municipality.slug, kind=kind, period=period)
        edition = _edition(session, municipality, kind, period)
    return edition


# ------------------------------------------------------------------ send

def _undelivered(session: Session, now: datetime, only: Iterable[int] | None) -> list[DigestLedger]:
    query = (select(DigestLedger).options(selectinload(DigestLedger.edition))
             .where(DigestLedger.status.in_(UNDELIVERED), DigestLedger.created_at >= now - DELIVERY_HORIZON)
             .order_by(DigestLedger.id))
    if only is not None:
        query = query.where(DigestLedger.municipality_id.in_(list(only)))
    return list(session.scalars(query))


def _claim(session: Session, row: DigestLedger, sender: Sender, now: datetime) -> bool:
    result = session.execute(
        update(DigestLedger)
        .where(DigestLedger.id == row.id, DigestLedger.status == row.status, DigestLedger.attempts == row.attempts)
        .values(status="sending", attempts=row.attempts + 1, claimed_by=this_process(), last_attempt_at=now,
                transport=sender.name)
        .execution_options(synchronize_session=False))
    session.commit()
    claimed = result.rowcount == 1  # type: ignore[attr-defined]
    session.refresh(row)
    return claimed


def send_undelivered(session: Session, settings: Settings, sender: Sender, *, now: datetime,
                     municipality_ids: Iterable[int] | None = None) -> list[Delivery]:
    """Send every ledger row not yet delivered (within the horizon), oldest first."""
    slugs: dict[int, str] = {mid: slug for mid, slug in session.execute(select(Municipality.id, Municipality.slug))}
    rows = _undelivered(session, now, municipality_ids)
    results: list[Delivery] = []
    server_down: str | None = None
    for row in rows:
        slug = slugs.get(row.municipality_id, str(row.municipality_id))
        base: dict[str, Any] = {"municipality": slug, "recipient": row.recipient, "kind": row.kind,
                                "period": row.period, "subject": row.subject, "message_id": row.message_id}
        if server_down is not None:
            results.append(Delivery(**base, status="deferred", error=server_down, attempts=row.attempts))
            continue
        if row.edition is None:
            continue
        if row.status == "sending" and not claim_lapsed(row.claimed_by, row.last_attempt_at, datetime.now(UTC)):
            results.append(Delivery(**base, status="in_progress", attempts=row.attempts))
            continue
        if row.status == "sending":
            log.warning("send_resumed_after_crash", municipality=slug, recipient=row.recipient, kind=row.kind,
                        period=row.period, message_id=row.message_id, claimed_by=row.claimed_by)
        if not _claim(session, row, sender, datetime.now(UTC)):
            results.append(Delivery(**base, status="in_progress", attempts=row.attempts))
            continue
        edition = row.edition
        message = build_message(subject=edition.subject, text=edition.body_text, html=edition.body_html,
                                calendar=edition.calendar, mail_from=settings.mail_from, recipient=row.recipient,
                                recipient_name=(row.details or {}).get("name"), message_id=row.message_id,
                                date=edition.decided_at)
        try:
            tries = send_with_retry(sender, message, retries=settings.smtp_retries, backoff=settings.smtp_backoff)
        except PermanentSendError as exc:
            _complete(session, row, "rejected", str(exc), exc.tries)
            log.warning("send_rejected", municipality=slug, recipient=row.recipient, kind=row.kind,
                        period=row.period, error=str(exc))
            results.append(Delivery(**base, status="rejected", error=str(exc), attempts=row.attempts))
            continue
        except TemporarySendError as exc:
            _complete(session, row, "failed", str(exc), exc.tries)
            log.warning("send_failed", municipality=slug, recipient=row.recipient, kind=row.kind,
                        period=row.period, error=str(exc), server_down=exc.server_down, tries=exc.tries)
            results.append(Delivery(**base, status="failed", error=str(exc), attempts=row.attempts))
            if exc.server_down:
                server_down = f"no se intentó: {exc}"
            continue
        except Exception as exc:  # an unforeseen error with one message (e.g. an address SMTP cannot encode)
            _complete(session, row, "failed", f"{type(exc).__name__}: {exc}", 1)
            log.exception("send_error", municipality=slug, recipient=row.recipient, kind=row.kind, period=row.period)
            results.append(Delivery(**base, status="failed", error=f"{type(exc).__name__}: {exc}", attempts=row.attempts))
            continue
        _complete(session, row, "sent", None, tries)
        log.info("send_done", municipality=slug, recipient=row.recipient, kind=row.kind, period=row.period,
                 transport=sender.name, message_id=row.message_id, tries=tries)
        results.append(Delivery(**base, status="sent", attempts=row.attempts))
    if server_down is not None:
        log.error("send_run_stopped_server_down", deferred=sum(1 for r in results if r.status == "deferred"),
                  error=server_down)
    return results


def _complete(session: Session, row: DigestLedger, status: str, error: str | None, tries: int) -> None:
    row.status = status
    row.attempts += max(tries - 1, 0)  # the claim counted the first try
    row.last_error = error[:2000] if error else None
    if status == "sent":
        row.sent_at = datetime.now(UTC)
        row.claimed_by = None
    session.commit()


# ------------------------------------------------------------------ entry points

def _municipalities(session: Session, only: Iterable[str] | None) -> list[Municipality]:
    query = select(Municipality).order_by(Municipality.slug)
    if only is not None:
        query = query.where(Municipality.slug.in_(list(only)))
    return list(session.scalars(query))


def deliver(session: Session, settings: Settings, sender: Sender, *, kinds: Iterable[str] = ("digest",),
            now: datetime | None = None, only: Iterable[str] | None = None) -> DeliveryReport:
    """Decide the due editions of `kinds`, then send every undelivered row of those municipalities
    (earlier editions and other kinds included: a run after an outage catches up)."""
    now = now or datetime.now(UTC)
    report = DeliveryReport()
    municipalities = _municipalities(session, only)
    for municipality in municipalities:
        for kind in kinds:
            label = f"{municipality.slug} {kind} {period_for(kind, now)}"
            try:
                edition = decide_edition(session, settings, municipality, kind, now)
            except Exception as exc:  # one municipality's bad data must not stop the others: logged, reported
                session.rollback()
                log.exception("edition_failed", municipality=municipality.slug, kind=kind, error=str(exc))
                report.errors.append(f"{label}: {exc}")
                continue
            (report.decided if edition is not None else report.nothing_due).append(label)
    ids = None if only is None else [m.id for m in municipalities]
    report.deliveries = send_undelivered(session, settings, sender, now=now, municipality_ids=ids)
    return report


def preview(session: Session, settings: Settings, municipality: Municipality, kind: str = "digest",
            *, now: datetime | None = None) -> Preview | None:
    """The period's message without sending or recording anything: the stored edition if it was
    decided, otherwise what would be decided now. None when nothing is due."""
    now = now or datetime.now(UTC)
    edition = _edition(session, municipality, kind, period_for(kind, now))
    if edition is not None:
        return Preview(edition.subject, edition.body_html, edition.body_text, edition.calendar, stored=True)
    digest = collect(session, municipality, kind, now)
    session.rollback()
    if digest.is_empty:
        return None
    rendered, calendar = compose(settings, digest, now)
    return Preview(rendered.subject, rendered.html, rendered.text, calendar, stored=False)


@dataclass(frozen=True)
class LedgerStatus:
    municipality: str
    recipient: str
    kind: str
    period: str
    status: str
    attempts: int
    last_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    subject: str | None
    message_id: str


def delivery_status(session: Session, *, since: datetime | None = None, only: Iterable[str] | None = None) -> list[LedgerStatus]:
    """Every ledger row (since a time), newest period first: what `convoca digest --status` shows."""
    query = (select(DigestLedger, Municipality.slug).join(Municipality, Municipality.id == DigestLedger.municipality_id)
             .order_by(DigestLedger.created_at.desc(), Municipality.slug, DigestLedger.kind, DigestLedger.recipient))
    if since is not None:
        query = query.where(DigestLedger.created_at >= since)
    if only is not None:
        query = query.where(Municipality.slug.in_(list(only)))
    return [LedgerStatus(slug, row.recipient, row.kind, row.period, row.status, row.attempts, row.last_attempt_at,
                         row.sent_at, row.last_error, row.subject, row.message_id)
            for row, slug in session.execute(query)]


__all__ = ["KINDS", "Delivery", "DeliveryReport", "LedgerStatus", "Preview", "decide_edition", "deliver",
           "delivery_status", "preview", "send_undelivered"]
