"""What each weekly digest lists, week after week, on SQLite and PostgreSQL (written to the outbox)."""

from __future__ import annotations

import email
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from convoca.cli import app
from convoca.settings import Settings
from models import DigestEdition, DigestEntry, DigestLedger, OpportunityVersion
from notifier.digest import collect_digest, digest_period, today_in_bogota
from notifier.send import OutboxSender
from notifier.service import SENDING_LEASE, claim_lapsed, deliver, preview
from tests.notifier_helpers import NOW, envigado_scenario


def _messages(folder: Path, slug: str) -> list[EmailMessage]:
    out = []
    for path in sorted(folder.glob(f"*.{slug}.*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_first_digest_lists_new_matches_ranked_grouped_and_once(session: Session, settings: Settings, tmp_path: Path):
    scenario = envigado_scenario(session)
    outbox = OutboxSender(tmp_path / "outbox")

    report = deliver(session, settings, outbox, now=NOW)

    assert report.errors == []
    assert {d.status for d in report.deliveries} == {"sent"}
    envigado = _messages(tmp_path / "outbox", "envigado")
    assert sorted(str(m["To"]).split("<")[1].rstrip(">") for m in envigado) == sorted(scenario.recipients)
    assert len({m["Message-ID"] for m in envigado}) == 3
    text = _text(envigado[0])
    numbered = [f"{n}. {t}" for n, t in enumerate(scenario.ranked_titles, start=1)]
    positions = [text.index(line) for line in numbered]
    assert positions == sorted(positions), "ranked items out of order"
    assert text.index("== Red de ciclorrutas y caminabilidad ==") < positions[0]
    assert positions[2] < text.index("== Recuperación de quebradas urbanas ==") < positions[3]
    assert "A call that already closed" not in text
    assert "marked not relevant" not in text
    assert text.count("Urban cycling infrastructure for Latin American cities") == 1  # under its best profile only
    assert "Cierran pronto" not in text and "== Cambios ==" not in text
    assert "postulación conjunta" not in text  # joint-call notes are AMVA's
    assert all(_text(m) == text for m in envigado), "every recipient gets the same digest"

    amva_text = _text(_messages(tmp_path / "outbox", "amva")[0])
    assert "== Para una postulación conjunta ==" in amva_text
    assert "Encaja con 3 municipios: Bello, Envigado, Itagüí." in amva_text

    # The same period again: nothing is decided or sent twice.
    files = sorted(p.name for p in (tmp_path / "outbox").glob("*.eml"))
    again = deliver(session, settings, outbox, now=NOW + timedelta(hours=2))
    assert again.deliveries == [] and again.decided == [f"{m} digest {digest_period(today_in_bogota(NOW))}"
                                                        for m in ("amva", "bello", "envigado", "itagui")]
    assert sorted(p.name for p in (tmp_path / "outbox").glob("*.eml")) == files
    assert session.scalar(select(func.count()).select_from(DigestEdition)) == 4
    sent = session.scalars(select(DigestLedger).where(DigestLedger.status == "sent")).all()
    assert len(sent) == len(files) == 6 and all(r.attempts == 1 for r in sent)


def test_cap_keeps_the_best_calls(session: Session):
    scenario = envigado_scenario(session)
    digest = collect_digest(session, scenario.envigado, today_in_bogota(NOW), max_items=2)
    assert [i.call.title for i in digest.items] == [scenario.ranked_titles[0], scenario.ranked_titles[3]]
    assert [g.profile_title for g in digest.groups] == ["Red de ciclorrutas y caminabilidad",
                                                       "Recuperación de quebradas urbanas"]


def test_later_weeks_send_closing_soon_and_changes_and_nothing_when_nothing_is_due(
        session: Session, settings: Settings, tmp_path: Path):
    scenario = envigado_scenario(session)
    outbox = OutboxSender(tmp_path / "outbox")
    deliver(session, settings, outbox, now=NOW)

    # The source extends the deadline of the streams call by 30 days (as the crawler records it).
    opp = scenario.calls["rivers"]
    assert opp.deadline is not None
    old = opp.deadline
    opp.deadline = old + timedelta(days=30)
    session.add(OpportunityVersion(opportunity_id=opp.id, field="deadline", old_value=old.isoformat(),
                                   new_value=opp.deadline.isoformat(), changed_at=NOW + timedelta(days=2)))
    session.commit()

    week2 = NOW + timedelta(days=7)
    report = deliver(session, settings, outbox, now=week2)
    period2 = digest_period(today_in_bogota(week2))
    assert f"amva digest {period2}" in report.nothing_due  # nothing new, nothing closing: not sent
    assert f"envigado digest {period2}" in report.decided
    week2_mail = [m for m in _messages(tmp_path / "outbox", "envigado") if period2 in str(m["Message-ID"])]
    assert len(week2_mail) == 3
    text = _text(week2_mail[0])
    assert str(week2_mail[0]["Subject"]).startswith("Convoca · Envigado: convocatorias · 1 cierra pronto, 1 cambio")
    assert "no hay convocatorias nuevas" in text
    # The cycling call closes in 33 days with 21 days of lead time: its effective deadline is 12 days away.
    soon = text.split("== Cierran pronto ==")[1].split("==")[0]
    assert "Urban cycling infrastructure for Latin American cities" in soon
    assert "(en 12 días), con 21 días de preparación" in soon
    changes = text.split("== Cambios ==")[1].split("Ver y calificar")[0]
    assert "Nature-based solutions for urban streams" in changes and "Fecha de cierre: " in changes

    # Week 3: the change was told already; the cycling call is still within 14 days of its effective deadline.
    week3 = NOW + timedelta(days=14)
    deliver(session, settings, outbox, now=week3)
    period3 = digest_period(today_in_bogota(week3))
    week3_text = _text(next(m for m in _messages(tmp_path / "outbox", "envigado") if period3 in str(m["Message-ID"])))
    assert "== Cambios ==" not in week3_text
    assert "(en 5 días)" in week3_text.split("== Cierran pronto ==")[1]


def test_reminder_is_sent_once_near_the_effective_deadline(session: Session, settings: Settings, tmp_path: Path):
    envigado_scenario(session)
    outbox = OutboxSender(tmp_path / "outbox")
    deliver(session, settings, outbox, now=NOW)
    assert deliver(session, settings, outbox, kinds=("reminder",), now=NOW + timedelta(days=10)).decided == []

    day16 = NOW + timedelta(days=16)  # the cycling call's effective deadline is 3 days away
    report = deliver(session, settings, outbox, kinds=("reminder",), now=day16)
    # Bello and Itagüí were sent the same call (with the same lead time): they are reminded too.
    assert report.decided == [f"{m} reminder {today_in_bogota(day16).isoformat()}" for m in ("bello", "envigado", "itagui")]
    reminders = [m for m in _messages(tmp_path / "outbox", "envigado") if str(m["Message-ID"]).startswith("<reminder.")]
    assert len(reminders) == 3
    assert "recordatorio" in str(reminders[0]["Subject"])
    assert "Urban cycling infrastructure" in _text(reminders[0]) and "(en 3 días)" in _text(reminders[0])
    parts = [p.get_content_type() for p in reminders[0].walk()]
    assert "text/calendar" in parts

    assert deliver(session, settings, outbox, kinds=("reminder",), now=day16 + timedelta(days=1)).decided == []


def test_preview_decides_nothing(session: Session, settings: Settings, tmp_path: Path):
    scenario = envigado_scenario(session)
    shown = preview(session, settings, scenario.envigado, now=NOW)
    assert shown is not None and not shown.stored
    assert "4 convocatorias nuevas" in shown.subject and shown.calendar and "BEGIN:VEVENT" in shown.calendar
    assert session.scalar(select(func.count()).select_from(DigestEntry)) == 0
    assert session.scalar(select(func.count()).select_from(DigestLedger)) == 0

    deliver(session, settings, OutboxSender(tmp_path / "outbox"), now=NOW)
    stored = preview(session, settings, scenario.envigado, now=NOW)
    assert stored is not None and stored.stored and stored.subject == shown.subject


def test_cli_preview_send_and_reminders(session: Session, settings: Settings, db_url: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch):
    envigado_scenario(session)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONVOCA_DATABASE_URL", db_url)
    monkeypatch.setenv("CONVOCA_OUTBOX_DIR", str(tmp_path / "outbox"))
    (tmp_path / "config" / "municipalities").mkdir(parents=True)  # the scenario is the whole configuration
    monkeypatch.setenv("CONVOCA_CONFIG_DIR", str(tmp_path / "config"))
    runner = CliRunner()

    shown = runner.invoke(app, ["digest", "--preview", "envigado", "--out", str(tmp_path / "vista")])
    assert shown.exit_code == 0, shown.output
    assert "Asunto: Convoca · Envigado: 4 convocatorias nuevas" in shown.output
    html = (tmp_path / "vista" / "envigado-digest.html").read_text(encoding="utf-8")
    assert "Urban cycling infrastructure" in html and "<style" not in html
    assert "1. Urban cycling infrastructure" in (tmp_path / "vista" / "envigado-digest.txt").read_text(encoding="utf-8")
    assert (tmp_path / "vista" / "envigado-digest.ics").read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(DigestLedger)) == 0

    assert runner.invoke(app, ["digest", "--preview", "nowhere"]).exit_code == 2
    assert runner.invoke(app, ["digest"]).exit_code == 2
    assert runner.invoke(app, ["digest", "--send", "--status"]).exit_code == 2

    sent = runner.invoke(app, ["digest", "--send"])
    assert sent.exit_code == 0, sent.output
    assert "6 enviados, 0 fallidos" in sent.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 6
    assert "0 enviados" in runner.invoke(app, ["digest", "--send"]).output

    reminders = runner.invoke(app, ["reminders"])
    assert reminders.exit_code == 0, reminders.output
    assert "0 enviados" in reminders.output  # nothing is that close yet


def test_a_claim_lapses_when_its_process_is_dead_or_too_old():
    host, now = socket.gethostname(), datetime.now(UTC)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not claim_lapsed(f"{host}:{alive.pid}", now, now)  # another process is sending right now
        assert claim_lapsed(f"{host}:{alive.pid}", now - SENDING_LEASE - timedelta(seconds=1), now)
    finally:
        alive.kill()
        alive.wait()
    assert claim_lapsed(f"{host}:{alive.pid}", now, now)  # died between the send and the commit
    assert not claim_lapsed("otra-maquina:4242", now, now)  # cannot be checked from here: wait for the lease
    assert claim_lapsed("otra-maquina:4242", now - timedelta(hours=1), now)
