"""Sign-in throttling: after a few consecutive failures a username is locked for a while.

The count lives in the database (login_throttle), so it holds across workers and restarts, and
it is kept per typed username whether or not the account exists: the same answer for a real and
an invented name gives an attacker no list of accounts. Each lock doubles the previous one, so a
guesser gets a handful of tries a day while a formulator who mistyped waits minutes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import LoginThrottle

log = structlog.stdlib.get_logger("convoca.web.throttle")

FREE_FAILURES = 5
FIRST_LOCK = timedelta(minutes=15)
LONGEST_LOCK = timedelta(hours=24)
# Failures older than this are forgotten: the count starts again.
FORGET_AFTER = timedelta(hours=24)


def lock_for(failures: int) -> timedelta | None:
    """How long a username stays locked after this many consecutive failures (None: not locked)."""
    if failures < FREE_FAILURES:
        return None
    doublings = min(failures - FREE_FAILURES, 16)
    return min(FIRST_LOCK * 2**doublings, LONGEST_LOCK)


def locked_until(session: Session, username: str, now: datetime) -> datetime | None:
    """When the lock on this username ends, or None when it may try now."""
    row = session.get(LoginThrottle, username)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def record_failure(session: Session, username: str, now: datetime) -> datetime | None:
    """Count one failed sign-in; the end of the lock it starts, if any."""
    session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failure_at < now - FORGET_AFTER,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now)))
    row = session.get(LoginThrottle, username)
    if row is None:
        try:
            # Two failures of a new name at once: the loser of the insert counts on the winner's row.
            with session.begin_nested():
                row = LoginThrottle(username=username, failures=0, last_failure_at=now)
                session.add(row)
        except IntegrityError:
            row = session.scalars(select(LoginThrottle).where(LoginThrottle.username == username)
                                  .with_for_update()).one()
    elif row.last_failure_at < now - FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    lock = lock_for(row.failures)
    row.locked_until = now + lock if lock else None
    session.flush()
    if lock:
        log.warning("login_locked", username=username, failures=row.failures, minutes=int(lock.total_seconds() // 60))
    return row.locked_until


def clear(session: Session, username: str) -> bool:
    """Forget the failures of this username (a successful sign-in, or an operator's unlock)."""
    removed = session.execute(delete(LoginThrottle).where(LoginThrottle.username == username)).rowcount
    return bool(removed)
