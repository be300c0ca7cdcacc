"""Accounts: the service and `convoca users add/list/disable/enable` over a real database."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from convoca.cli import app
from convoca.cycle import sync_configs
from convoca.settings import Settings
from models import LoginThrottle, User
from models.db import session_factory, session_scope
from web.accounts import AccountError, SignInLocked, add_user, authenticate, list_users, set_active, unlock
from web.throttle import lock_for, locked_until, record_failure

runner = CliRunner()


@pytest.fixture
def synced(session: Session, settings: Settings) -> Session:
    sync_configs(session, settings)
    session.commit()
    return session


def test_passwords_are_argon2_hashes_and_authentication_checks_them(synced: Session):
    user = add_user(synced, "  Formuladora@Bello.gov.co ", "una-clave-larga-1", "bello", "Formuladora")
    synced.commit()
    assert user.username == "formuladora@bello.gov.co"
    assert user.password_hash.startswith("$argon2id$") and "una-clave-larga-1" not in user.password_hash
    assert not user.is_amva
    assert authenticate(synced, "FORMULADORA@bello.gov.co", "una-clave-larga-1") is not None
    assert authenticate(synced, "formuladora@bello.gov.co", "otra-clave-larga") is None
    set_active(synced, "formuladora@bello.gov.co", False)
    assert authenticate(synced, "formuladora@bello.gov.co", "una-clave-larga-1") is None


def test_account_errors_say_what_to_fix(synced: Session):
    add_user(synced, "ana@itagui.gov.co", "una-clave-larga-1", "itagui")
    with pytest.raises(AccountError, match="ya existe"):
        add_user(synced, "ana@itagui.gov.co", "una-clave-larga-2", "itagui")
    with pytest.raises(AccountError, match="al menos 10"):
        add_user(synced, "bea@itagui.gov.co", "corta", "itagui")
    with pytest.raises(AccountError, match="no existe el municipio 'itagüí'"):
        add_user(synced, "bea@itagui.gov.co", "una-clave-larga-1", "itagüí")
    with pytest.raises(AccountError, match="no es un nombre de usuario"):
        add_user(synced, "con espacios", "una-clave-larga-1", "itagui")
    with pytest.raises(AccountError, match="no existe el usuario"):
        set_active(synced, "nadie", False)
    assert [r.username for r in list_users(synced)] == ["ana@itagui.gov.co"]


def test_users_commands(sqlite_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CONVOCA_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "200")
    r = runner.invoke(app, ["users", "add", "jefe@amva.gov.co", "--municipio", "amva", "--nombre", "Jefa",
                            "--password-stdin"], input="clave-de-la-jefa-1\n")
    assert r.exit_code == 0, r.output
    assert "ve todos los municipios (AMVA)" in r.output
    r = runner.invoke(app, ["users", "add", "ana@envigado.gov.co", "-m", "envigado"],
                      input="clave-de-ana-123\nclave-de-ana-123\n")
    assert r.exit_code == 0 and "ve Envigado" in r.output
    r = runner.invoke(app, ["users", "add", "ana@envigado.gov.co", "-m", "envigado", "--password-stdin"],
                      input="clave-de-ana-123\n")
    assert r.exit_code == 1 and "ya existe" in r.output
    r = runner.invoke(app, ["users", "list"])
    assert r.exit_code == 0 and "jefe@amva.gov.co" in r.output and "ana@envigado.gov.co" in r.output
    assert runner.invoke(app, ["users", "disable", "ana@envigado.gov.co"]).exit_code == 0
    assert runner.invoke(app, ["users", "disable", "nadie"]).exit_code == 1
    with session_scope(sqlite_url) as s:
        users = {u.username: u for u in s.scalars(select(User))}
        assert users["ana@envigado.gov.co"].active is False and users["jefe@amva.gov.co"].active is True
        assert users["jefe@amva.gov.co"].display_name == "Jefa"
    assert runner.invoke(app, ["users", "enable", "ana@envigado.gov.co"]).exit_code == 0
    for _ in range(5):
        with session_scope(sqlite_url) as s:
            assert authenticate(s, "ana@envigado.gov.co", "no-es-la-clave") is None
    r = runner.invoke(app, ["users", "list"])
    assert r.exit_code == 0 and "Bloqueada hasta" in r.output
    ana = next(line for line in r.output.splitlines() if "ana@envigado.gov.co" in line)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", ana)  # never signed in, so the date is the lock's end
    r = runner.invoke(app, ["users", "unlock", "ana@envigado.gov.co"])
    assert r.exit_code == 0 and "levantado" in r.output
    with session_scope(sqlite_url) as s:
        assert authenticate(s, "ana@envigado.gov.co", "clave-de-ana-123") is not None


def test_lock_grows_with_consecutive_failures():
    assert [lock_for(n) for n in range(5)] == [None] * 5
    assert [lock_for(n) for n in (5, 6, 7)] == [timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1)]
    assert lock_for(12) == lock_for(10_000) == timedelta(hours=24)


def test_failed_sign_ins_lock_a_username_whether_or_not_it_exists(synced: Session):
    add_user(synced, "ana@itagui.gov.co", "una-clave-larga-1", "itagui")
    synced.commit()
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    for name in ("ana@itagui.gov.co", "inventado@itagui.gov.co"):
        for attempt in range(5):
            assert authenticate(synced, name, "adivinanza", now=now + timedelta(seconds=attempt)) is None
        with pytest.raises(SignInLocked) as locked:
            authenticate(synced, name.upper(), "una-clave-larga-1", now=now + timedelta(minutes=1))
        assert locked.value.until == now + timedelta(seconds=4, minutes=15)
    synced.commit()
    # The lock ends on its own; one more failure then locks twice as long.
    later = now + timedelta(minutes=16)
    assert authenticate(synced, "inventado@itagui.gov.co", "otra", now=later) is None
    assert locked_until(synced, "inventado@itagui.gov.co", later) == later + timedelta(minutes=30)
    # The right password after the lock signs in and forgets the failures.
    assert authenticate(synced, "ana@itagui.gov.co", "una-clave-larga-1", now=later) is not None
    assert synced.get(LoginThrottle, "ana@itagui.gov.co") is None
    # A day later old failures are forgotten: four new ones do not lock.
    next_day = later + timedelta(days=2)
    for attempt in range(4):
        assert authenticate(synced, "inventado@itagui.gov.co", "otra", now=next_day) is None
    assert locked_until(synced, "inventado@itagui.gov.co", next_day) is None
    assert unlock(synced, "Inventado@itagui.gov.co") and not unlock(synced, "inventado@itagui.gov.co")


def test_simultaneous_failures_of_a_new_name_both_count(db_url: str, synced: Session):
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    first = session_factory(db_url)()
    record_failure(first, "nuevo@bello.gov.co", now)  # inserted, not yet committed
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with session_scope(db_url) as other:
                record_failure(other, "nuevo@bello.gov.co", now)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)  # it waits on the first transaction
    first.commit()
    first.close()
    thread.join(30)
    assert not thread.is_alive() and errors == []
    synced.expire_all()
    assert synced.get(LoginThrottle, "nuevo@bello.gov.co").failures == 2
