"""Digests over real SMTP (aiosmtpd on localhost): content, TLS, failures, and exactly-once delivery.

The crash test kills a real `convoca digest --send` process with SIGKILL after the SMTP server
accepted a message and before the sender could record it; the next run must deliver every
recipient's digest, with the same Message-ID, and a later run must send nothing.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from icalendar import Calendar
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from convoca.cli import app
from convoca.settings import Settings
from models import DigestLedger
from notifier.send import SmtpSender, TemporarySendError, make_sender
from notifier.service import deliver
from tests.notifier_helpers import (
    NOW,
    Mailbox,
    envigado_scenario,
    free_port,
    kill_and_reap,
    smtp_server,
)

REPO = Path(__file__).resolve().parent.parent


def _smtp_settings(settings: Settings, port: int, **extra: object) -> Settings:
    return settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
                                       "smtp_timeout": 10.0, "smtp_retries": 2, "smtp_backoff": 0.05, **extra})


def _plain(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _ledger(session: Session) -> list[DigestLedger]:
    session.rollback()  # end the read transaction: other processes wrote since (SQLite keeps a snapshot)
    return list(session.scalars(select(DigestLedger).order_by(DigestLedger.id)))


def test_digests_arrive_over_smtp_as_multipart_with_calendar(session: Session, settings: Settings):
    scenario = envigado_scenario(session)
    mailbox = Mailbox()
    server = smtp_server(mailbox)
    try:
        smtp = _smtp_settings(settings, server.port)
        report = deliver(session, smtp, make_sender(smtp), now=NOW, only=["envigado"])
        assert [d.status for d in report.deliveries] == ["sent"] * 3
        assert len(mailbox.messages) == 3

        for address in scenario.recipients:
            (msg,) = mailbox.to(address)
            assert msg["Subject"] == f"Convoca · Envigado: 4 convocatorias nuevas (semana del {_week_start()})"
            assert msg["Message-ID"].startswith("<digest.envigado.") and msg["Message-ID"].endswith("@amva.example.gov.co>")
            assert msg["To"].addresses[0].addr_spec == address
            assert msg["Date"].datetime is not None and msg["Date"].datetime.utcoffset() == timedelta(hours=-5)
            assert msg["From"] == settings.mail_from
            assert msg.get_content_type() == "multipart/mixed"
            alternative = next(p for p in msg.iter_parts() if p.get_content_type() == "multipart/alternative")
            assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
            (ics,) = [p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar"]
            assert ics.get_filename() == "convocatorias.ics"
            events = Calendar.from_ical(ics.get_content()).walk("VEVENT")
            assert {str(e["SUMMARY"]) for e in events} == {f"Cierre: {t}" for t in scenario.ranked_titles}

            text = _plain(msg)
            positions = [text.index(f"{n}. {t}") for n, t in enumerate(scenario.ranked_titles, start=1)]
            assert positions == sorted(positions)
            html = str(alternative.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
            escaped = [t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") for t in scenario.ranked_titles]
            assert [html.index(t) for t in escaped] == sorted(html.index(t) for t in escaped)
        assert len({m["Message-ID"] for m in mailbox.messages}) == 3

        # Two runs for the same period deliver once.
        again = deliver(session, smtp, make_sender(smtp), now=NOW + timedelta(minutes=5), only=["envigado"])
        assert again.deliveries == []
        assert len(mailbox.messages) == 3
    finally:
        server.stop()


def _week_start() -> str:
    from notifier.digest import Digest, today_in_bogota
    from notifier.formatting import long_date

    return str(long_date(Digest("digest", "x", "x", False, "", today_in_bogota(NOW)).week_start))


def test_starttls_with_login_and_implicit_tls(session: Session, settings: Settings, tmp_path: Path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session_, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3creto")

    envigado_scenario(session)
    mailbox = Mailbox()
    starttls = smtp_server(mailbox, tls_context=server_ctx, require_starttls=True, authenticator=authenticator,
                           auth_required=True)
    try:
        smtp = _smtp_settings(settings, starttls.port, smtp_security="starttls", smtp_user="convoca",
                              smtp_password=SecretStr("s3creto"), smtp_ca_file=ca_file)
        report = deliver(session, smtp, make_sender(smtp), now=NOW, only=["envigado"])
        assert report.count("sent") == 3 and len(mailbox.messages) == 3
        assert logins and set(logins) == {(b"convoca", b"s3creto")}
    finally:
        starttls.stop()

    # Implicit TLS (port 465 style) delivers too; an untrusted certificate is a server failure, not a send.
    tls_box = Mailbox()
    implicit = smtp_server(tls_box, ssl_context=server_ctx)
    try:
        message = EmailMessage()
        message["Message-ID"], message["To"], message["From"], message["Subject"] = "<t@x>", "a@b.co", "c@d.co", "prueba"
        message.set_content("hola")
        SmtpSender("127.0.0.1", implicit.port, security="tls", ca_file=ca_file, timeout=10).send(message)
        assert len(tls_box.messages) == 1
        with pytest.raises(TemporarySendError) as untrusted:
            SmtpSender("127.0.0.1", implicit.port, security="tls", timeout=10).send(message)
        assert untrusted.value.server_down
    finally:
        implicit.stop()


def test_temporary_failure_is_retried_and_a_permanent_one_does_not_stop_the_others(
        session: Session, settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch):
    scenario = envigado_scenario(session)
    deferred, refused, fine = scenario.recipients
    mailbox = Mailbox(refuse={refused: f"550 5.1.1 <{refused}>: mailbox unavailable"}, defer_once={deferred})
    server = smtp_server(mailbox)
    try:
        smtp = _smtp_settings(settings, server.port)
        report = deliver(session, smtp, make_sender(smtp), now=NOW, only=["envigado"])
    finally:
        server.stop()
    by_recipient = {d.recipient: d for d in report.deliveries}
    assert by_recipient[deferred].status == "sent"
    assert by_recipient[fine].status == "sent"
    assert by_recipient[refused].status == "rejected" and "550" in (by_recipient[refused].error or "")
    assert sorted(m["To"].addresses[0].addr_spec for m in mailbox.messages) == sorted([deferred, fine])
    rows = {r.recipient: r for r in _ledger(session)}
    assert rows[deferred].attempts == 2 and rows[deferred].status == "sent"  # 451, then accepted
    assert rows[refused].status == "rejected" and rows[refused].sent_at is None

    # A rejected recipient is not retried; `convoca digest --status` shows why.
    again = deliver(session, _smtp_settings(settings, free_port()), make_sender(_smtp_settings(settings, free_port())),
                    now=NOW + timedelta(hours=1), only=["envigado"])
    assert again.deliveries == []
    monkeypatch.setenv("CONVOCA_DATABASE_URL", db_url)
    monkeypatch.chdir(settings.outbox_dir.parent)
    result = CliRunner().invoke(app, ["digest", "--status", "--municipality", "envigado"], terminal_width=250)
    assert result.exit_code == 0, result.output
    assert "rechazado" in result.output and "550 5.1.1" in result.output
    assert result.output.count("enviado") >= 2 and "2 enviado" in result.output


def test_smtp_down_for_a_whole_run_then_up(session: Session, settings: Settings):
    scenario = envigado_scenario(session)
    port = free_port()  # nothing listens: connection refused
    smtp = _smtp_settings(settings, port)
    down = deliver(session, smtp, make_sender(smtp), now=NOW)
    assert down.count("sent") == 0
    assert down.count("failed") == 1 and down.count("deferred") == 5  # the first exhausted its retries
    failed = [r for r in _ledger(session) if r.status == "failed"]
    assert len(failed) == 1 and failed[0].attempts == 3 and "ConnectionRefusedError" in (failed[0].last_error or "")
    assert all(r.status in ("failed", "pending") for r in _ledger(session))

    mailbox = Mailbox()
    server = smtp_server(mailbox, port=port)
    try:
        up = deliver(session, smtp, make_sender(smtp), now=NOW + timedelta(hours=1))
        assert up.count("sent") == 6
        after = deliver(session, smtp, make_sender(smtp), now=NOW + timedelta(hours=2))
        assert after.deliveries == []
    finally:
        server.stop()
    assert len(mailbox.messages) == 6 and len({m["Message-ID"] for m in mailbox.messages}) == 6
    assert {m["To"].addresses[0].addr_spec for m in mailbox.to("envigado")} == set(scenario.recipients)
    assert all(r.status == "sent" for r in _ledger(session))


def test_a_server_that_never_answers_times_out_as_temporary():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the handshake completes, but no greeting ever comes
        message = EmailMessage()
        message["Message-ID"], message["To"], message["From"] = "<t@x>", "a@b.co", "c@d.co"
        message.set_content("hola")
        with pytest.raises(TemporarySendError) as timeout:
            SmtpSender("127.0.0.1", silent.getsockname()[1], security="none", timeout=0.5).send(message)
    assert timeout.value.server_down and "timed out" in str(timeout.value).lower()


def _send_process(db_url: str, port: int, cwd: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVOCA_")}
    env.update({"CONVOCA_DATABASE_URL": db_url, "CONVOCA_SMTP_HOST": "127.0.0.1", "CONVOCA_SMTP_PORT": str(port),
                "CONVOCA_SMTP_SECURITY": "none", "CONVOCA_SMTP_BACKOFF": "0.05", "PYTHONPATH": str(REPO)})
    return subprocess.Popen([sys.executable, "-m", "convoca", "digest", "--send"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_crash_between_send_and_commit_is_resolved_without_loss_and_never_repeated_after(
        session: Session, db_url: str, tmp_path: Path):
    scenario = envigado_scenario(session)
    total = 6  # envigado 3, amva 1, bello 1, itagui 1
    mailbox = Mailbox()
    server = smtp_server(mailbox)
    victim: dict[str, subprocess.Popen[bytes]] = {}

    def crash_after_second(accepted: int) -> None:
        # The server has accepted the second message and the client waits for the reply to QUIT:
        # the send is done, the ledger row is not completed. Kill the sender there, for real.
        if accepted == 2 and "proc" in victim:
            kill_and_reap(victim.pop("proc"))

    mailbox.on_quit = crash_after_second
    try:
        proc = _send_process(db_url, server.port, tmp_path)
        victim["proc"] = proc
        proc.wait(timeout=120)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode() if proc.stderr else ""
        assert len(mailbox.messages) == 2
        rows = _ledger(session)
        assert [r.status for r in rows].count("sent") == 1
        (crashed,) = [r for r in rows if r.status == "sending"]
        assert crashed.claimed_by and crashed.claimed_by.endswith(f":{proc.pid}")
        assert [r.status for r in rows].count("pending") == total - 2
        crashed_id = crashed.message_id
        assert mailbox.messages[1]["Message-ID"] == crashed_id

        # The next run resolves the crash: the claimer is dead, so the row is sent again, same Message-ID.
        rerun = _send_process(db_url, server.port, tmp_path)
        _, errors = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, errors.decode()
        assert len(mailbox.messages) == total + 1
        rows = _ledger(session)
        assert all(r.status == "sent" for r in rows) and len(rows) == total
        by_id: dict[str, int] = {}
        for m in mailbox.messages:
            by_id[str(m["Message-ID"])] = by_id.get(str(m["Message-ID"]), 0) + 1
        assert len(by_id) == total, "every recipient's digest arrived"
        assert by_id[crashed_id] == 2 and all(n == 1 for mid, n in by_id.items() if mid != crashed_id)
        twice = [m for m in mailbox.messages if m["Message-ID"] == crashed_id]
        assert twice[0].as_bytes() == twice[1].as_bytes(), "the retry is the same message, byte for byte"
        assert next(r for r in rows if r.message_id == crashed_id).attempts == 2

        # Completed: a third run sends nothing.
        third = _send_process(db_url, server.port, tmp_path)
        third.communicate(timeout=120)
        assert third.returncode == 0
        assert len(mailbox.messages) == total + 1
    finally:
        if victim:
            kill_and_reap(victim.pop("proc"))
        server.stop()
    assert {m["To"].addresses[0].addr_spec for m in mailbox.messages} >= set(scenario.recipients)


def test_a_non_ascii_address_needs_smtputf8_and_never_stops_the_run(session: Session, settings: Settings):
    from tests.notifier_helpers import call, match, municipality, profile

    for slug, name in (("caldas", "Caldas"), ("girardota", "Girardota")):
        m = municipality(session, slug, name, [("Secretaría de Planeación", f"josé.pérez@{slug}.example.gov.co"),
                                               ("Despacho", f"despacho@{slug}.example.gov.co")])
        p = profile(session, m, "acueductos", "Acueductos veredales")
        match(session, m, p, call(session, f"Rural water supply grants for {name}", days_left=80), 72.0)
    session.commit()

    plain, utf8 = Mailbox(), Mailbox()
    old_server = smtp_server(plain, enable_SMTPUTF8=False)
    new_server = smtp_server(utf8, enable_SMTPUTF8=True)
    try:
        old = _smtp_settings(settings, old_server.port)
        refused = deliver(session, old, make_sender(old), now=NOW, only=["caldas"])
        new = _smtp_settings(settings, new_server.port)
        accepted = deliver(session, new, make_sender(new), now=NOW, only=["girardota"])
    finally:
        old_server.stop()
        new_server.stop()
    assert {d.recipient: d.status for d in refused.deliveries} == {
        "josé.pérez@caldas.example.gov.co": "rejected", "despacho@caldas.example.gov.co": "sent"}
    assert [m["To"].addresses[0].addr_spec for m in plain.messages] == ["despacho@caldas.example.gov.co"]
    assert {d.status for d in accepted.deliveries} == {"sent"}
    assert sorted(str(m["To"]) for m in utf8.messages) == [
        "Despacho <despacho@girardota.example.gov.co>",
        "Secretaría de Planeación <josé.pérez@girardota.example.gov.co>"]
