"""The operator hears of unhealthy sources by email: once a day at most, only when there is news."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

from sqlalchemy.orm import Session

from convoca.settings import Settings
from models import Source, SourceRun
from notifier.send import OutboxSender
from notifier.service import deliver
from tests.notifier_helpers import municipality

NOW = datetime(2026, 11, 23, 14, tzinfo=UTC)


def _source(session: Session, slug: str, name: str, *, seen: int, dropped: int, status: str = "ok",
            by_reason: dict[str, int] | None = None) -> None:
    source = Source(slug=slug, name=name, enabled=True, created_at=NOW - timedelta(days=30))
    session.add(source)
    session.flush()
    session.add(SourceRun(source_id=source.id, started_at=NOW - timedelta(hours=1), finished_at=NOW, status=status,
                          items_seen=seen, items_new=seen - dropped, items_changed=0, items_unchanged=0, items_merged=0,
                          items_dropped=dropped, dropped_by_reason=by_reason or {}, errors=0, duration_s=3.0,
                          healthy=None, message=None))


def _messages(outbox: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))]


def test_unhealthy_sources_reach_the_operator_once(session: Session, settings: Settings, tmp_path: Path):
    amva = municipality(session, "amva", "Área Metropolitana del Valle de Aburrá",
                        [("Cooperación", "cooperacion@amva.example.gov.co")], metropolitan=True)
    municipality(session, "envigado", "Envigado", [("Planeación", "planeacion@envigado.example.gov.co")])
    _source(session, "eu_sedia", "EU Funding & Tenders Portal", seen=20, dropped=0)
    _source(session, "minciencias", "MinCiencias <convocatorias>", seen=0, dropped=0)
    _source(session, "undp", "UNDP procurement notices", seen=10, dropped=4, by_reason={"missing_title": 4})
    session.commit()
    outbox = tmp_path / "outbox"
    operator = settings.model_copy(update={"operator_emails": "ti@amva.example.gov.co, guardia@amva.example.gov.co"})

    first = deliver(session, operator, OutboxSender(outbox), kinds=("health",), now=NOW, only=["amva", "envigado"])
    assert first.decided == ["amva health 2026-11-23"] and first.nothing_due == ["envigado health 2026-11-23"]
    assert first.count("sent") == 2
    messages = _messages(outbox)
    assert sorted(str(m["To"]) for m in messages) == ["Operación Convoca <guardia@amva.example.gov.co>",
                                                      "Operación Convoca <ti@amva.example.gov.co>"]
    message = messages[0]
    assert message["Subject"].startswith("Convoca · salud de las fuentes: 2 fuentes con problemas")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "MinCiencias <convocatorias> (minciencias)" in text and "UNDP procurement notices" in text
    assert "missing_title 4" in text and "EU Funding" not in text
    assert "MinCiencias &lt;convocatorias&gt;" in html and "<convocatorias>" not in html  # source names are escaped
    assert "/amva#fuentes" in html and not any(p.get_content_type() == "text/calendar" for p in message.walk())
    assert amva.id is not None

    again = deliver(session, operator, OutboxSender(outbox), kinds=("health",), now=NOW + timedelta(hours=3), only=["amva"])
    assert again.decided == ["amva health 2026-11-23"] and again.deliveries == []  # same day: already told
    assert len(_messages(outbox)) == 2


def test_no_alert_when_every_source_is_healthy_and_amva_recipients_by_default(session: Session, settings: Settings,
                                                                               tmp_path: Path):
    municipality(session, "amva", "Área Metropolitana del Valle de Aburrá",
                 [("Cooperación", "cooperacion@amva.example.gov.co")], metropolitan=True)
    _source(session, "eu_sedia", "EU Funding & Tenders Portal", seen=20, dropped=1)
    session.commit()
    outbox = tmp_path / "outbox"
    calm = deliver(session, settings, OutboxSender(outbox), kinds=("health",), now=NOW, only=["amva"])
    assert calm.decided == [] and calm.deliveries == []
    _source(session, "secop", "SECOP II", seen=0, dropped=0, status="failed")
    session.commit()
    alert = deliver(session, settings, OutboxSender(outbox), kinds=("health",), now=NOW + timedelta(days=1), only=["amva"])
    assert alert.count("sent") == 1
    assert [str(m["To"]) for m in _messages(outbox)] == ["Cooperación <cooperacion@amva.example.gov.co>"]
