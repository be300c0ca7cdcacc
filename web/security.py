"""Password hashing, CSRF tokens and the session-signing secret."""

from __future__ import annotations

import hmac
import secrets

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from convoca.settings import Settings

log = structlog.stdlib.get_logger("convoca.web")

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("convoca-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def session_secret(settings: Settings) -> str:
    """CONVOCA_SECRET_KEY; without one (development, demo) a random key that lives as long as the process."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    log.warning("secret_key_generated", hint="set CONVOCA_SECRET_KEY so sessions survive a restart")
    return secrets.token_urlsafe(48)
