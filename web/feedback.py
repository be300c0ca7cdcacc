"""Record a formulator's verdict on a match and move the match's status with it."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy.orm import Session

from convoca.errors import ConvocaError
from models import Feedback, Match
from models.feedback import REASON_CODES, VERDICTS

log = structlog.stdlib.get_logger("convoca.web.feedback")

# What a verdict does to the match's status in the list.
STATUS_BY_VERDICT = {"relevant": "reviewed", "not_relevant": "dismissed", "applying": "applying"}
MAX_NOTE = 2000


class FeedbackError(ConvocaError):
    """A verdict that cannot be stored as given (unknown verdict, missing reason)."""


def record_feedback(session: Session, match: Match, username: str, verdict: str, reason: str | None = None,
                    note: str | None = None, *, now: datetime | None = None) -> Feedback:
    if verdict not in VERDICTS:
        raise FeedbackError("Elija relevante, no relevante o postulando.")
    reason = reason or None
    if verdict == "not_relevant":
        if reason is None:
            raise FeedbackError("Indique por qué no es relevante.")
        if reason not in REASON_CODES:
            raise FeedbackError("Razón desconocida.")
    else:
        reason = None  # a reason only qualifies "not relevant"
    note = (note or "").strip()[:MAX_NOTE] or None
    row = Feedback(match_id=match.id, municipality_id=match.municipality_id, user=username, verdict=verdict,
                   reason=reason, note=note, created_at=now or datetime.now(UTC))
    session.add(row)
    match.status = STATUS_BY_VERDICT[verdict]
    session.flush()
    log.info("feedback_recorded", match_id=match.id, municipality_id=match.municipality_id, user=username,
             verdict=verdict, reason=reason)
    return row
