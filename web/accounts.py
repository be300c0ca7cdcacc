"""Account service: create, list, disable and authenticate web users."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from convoca.errors import ConvocaError
from models import Municipality, User
from web import throttle
from web.security import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password

log = structlog.stdlib.get_logger("convoca.web.accounts")

USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._@+-]{1,199}")


class AccountError(ConvocaError):
    """An account operation that cannot be done (unknown municipality, duplicate name, weak password)."""


@dataclass(frozen=True)
class AccountRow:
    username: str
    display_name: str | None
    municipality_slug: str
    municipality_name: str
    is_amva: bool
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None = None


def normalise_username(username: str) -> str:
    return username.strip().lower()


def add_user(session: Session, username: str, password: str, municipality_slug: str,
             display_name: str | None = None) -> User:
    name = normalise_username(username)
    if not USERNAME_RE.fullmatch(name):
        raise AccountError(f"'{username}' no es un nombre de usuario válido: use letras minúsculas, dígitos y . _ @ + -")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"la contraseña debe tener al menos {MIN_PASSWORD_LENGTH} caracteres")
    municipality = session.scalars(select(Municipality).where(Municipality.slug == municipality_slug)).first()
    if municipality is None:
        known = ", ".join(session.scalars(select(Municipality.slug).order_by(Municipality.slug))) or "ninguno"
        raise AccountError(f"no existe el municipio '{municipality_slug}' (conocidos: {known}); "
                           "ejecute `convoca db upgrade` y `convoca match` o `convoca crawl` para cargar la configuración")
    if session.scalars(select(User).where(User.username == name)).first() is not None:
        raise AccountError(f"ya existe el usuario '{name}'")
    user = User(username=name, display_name=display_name, password_hash=hash_password(password),
                municipality=municipality, active=True)
    session.add(user)
    session.flush()
    log.info("user_added", username=name, municipality=municipality.slug, amva=municipality.is_metropolitan)
    return user


def list_users(session: Session) -> list[AccountRow]:
    users = session.scalars(select(User).options(joinedload(User.municipality)).order_by(User.username))
    now = datetime.now(UTC)
    return [AccountRow(u.username, u.display_name, u.municipality.slug, u.municipality.name, u.is_amva, u.active,
                       u.created_at, u.last_login_at, throttle.locked_until(session, u.username, now))
            for u in users]


def set_active(session: Session, username: str, active: bool) -> User:
    name = normalise_username(username)
    user = session.scalars(select(User).where(User.username == name)).first()
    if user is None:
        raise AccountError(f"no existe el usuario '{name}'")
    user.active = active
    session.flush()
    log.info("user_enabled" if active else "user_disabled", username=name)
    return user


class SignInLocked(AccountError):
    """Too many consecutive failed sign-ins for this username: it may try again at `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"demasiados intentos fallidos; intente de nuevo después de {until:%H:%M} UTC")
        self.until = until


def authenticate(session: Session, username: str, password: str, *, now: datetime | None = None) -> User | None:
    """The active user with this name and password, or None. Equal work for every failure.

    Raises SignInLocked, without checking the password, while the username is locked (web.throttle).
    """
    now = now or datetime.now(UTC)
    name = normalise_username(username)
    until = throttle.locked_until(session, name, now)
    if until is not None:
        log.info("login_refused_locked", username=name[:200], until=until.isoformat())
        raise SignInLocked(until)
    user = session.scalars(
        select(User).options(joinedload(User.municipality)).where(User.username == name)
    ).first()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        log.info("login_failed", username=name[:200], known=user is not None)
        throttle.record_failure(session, name[:200], now)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    throttle.clear(session, name)
    session.flush()
    log.info("login_ok", username=name, municipality=user.municipality.slug)
    return user


def unlock(session: Session, username: str) -> bool:
    """An operator lifts a sign-in lock; True when there was anything to lift."""
    name = normalise_username(username)
    lifted = throttle.clear(session, name)
    log.info("login_unlocked", username=name, had_failures=lifted)
    return lifted


DEMO_ACCOUNTS = (("demo.medellin", "medellin", "Formulador de demostración"),
                 ("demo.amva", "amva", "AMVA, demostración"))


def create_demo_accounts(session: Session, password: str) -> list[tuple[str, str]]:
    """The demo's sign-in accounts: (username, municipality slug) of each one created."""
    created = []
    for username, slug, name in DEMO_ACCOUNTS:
        add_user(session, username, password, slug, name)
        created.append((username, slug))
    return created
