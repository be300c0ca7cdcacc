"""Accounts: the service and `convoca users add/list/disable/enable` over a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from convoca.cli import app
from convoca.cycle import sync_configs
from convoca.settings import Settings
from models import User
from models.db import session_scope
from web.accounts import AccountError, add_user, authenticate, list_users, set_active

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
