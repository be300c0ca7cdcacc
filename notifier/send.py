"""Senders behind one protocol: SMTP, and the outbox folder (the default with no SMTP).

A sender either returns (the message was handed over), or raises TemporarySendError (worth
retrying; `server_down` when nothing will get through this run) or PermanentSendError (this
recipient is refused for good).
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import structlog

from convoca.errors import NotifyError
from convoca.settings import Settings

log = structlog.stdlib.get_logger("convoca.notifier")


class SendError(NotifyError):
    tries: int = 1  # how many times the message was tried before this error was final


class TemporarySendError(SendError):
    """Worth retrying: refused connection, timeout, 4xx."""

    def __init__(self, message: str, *, server_down: bool = False):
        super().__init__(message)
        self.server_down = server_down


class PermanentSendError(SendError):
    """Not worth retrying for this recipient: 5xx."""


class Sender(Protocol):
    name: str

    def send(self, message: EmailMessage) -> None: ...


class OutboxSender:
    """Writes each message as an .eml file named after its Message-ID: a retry overwrites, never duplicates."""

    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path_for(self, message: EmailMessage) -> Path:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(message["Message-ID"]).strip("<>"))
        return self.folder / f"{stem}.eml"

    def send(self, message: EmailMessage) -> None:
        path = self.path_for(message)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".eml.tmp")
            tmp.write_bytes(message.as_bytes())
            os.replace(tmp, path)
        except OSError as exc:
            raise TemporarySendError(f"outbox {self.folder}: {exc}", server_down=True) from exc


# Replies that concern the whole server or session rather than one recipient.
_SERVER_CODES = {421}


class SmtpSender:
    """One SMTP session per message: STARTTLS (default), implicit TLS, or plain for a local relay."""

    name = "smtp"

    def __init__(self, host: str, port: int, *, security: str = "starttls", user: str | None = None,
                 password: str | None = None, timeout: float = 30.0, ca_file: Path | None = None):
        if security not in ("starttls", "tls", "none"):
            raise NotifyError(f"unknown SMTP security '{security}': use starttls, tls or none")
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout
        self.ca_file = ca_file

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def send(self, message: EmailMessage) -> None:
        try:
            if self.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                        context=self._context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=self._context())
                if self.user and self.password:
                    client.login(self.user, self.password)
                try:
                    client.send_message(message)
                except smtplib.SMTPNotSupportedError as exc:
                    # e.g. a non-ASCII address and a server without SMTPUTF8: this message, not the server.
                    raise PermanentSendError(f"the server cannot take this message: {exc}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= c < 600 for c in codes):
                raise PermanentSendError(f"recipient refused: {_replies(exc.recipients)}") from exc
            raise TemporarySendError(f"recipient deferred: {_replies(exc.recipients)}") from exc
        except smtplib.SMTPAuthenticationError as exc:
            # Wrong credentials stop every send alike: keep them all for the next run.
            raise TemporarySendError(f"authentication failed: {exc.smtp_code} {_text(exc.smtp_error)}",
                                     server_down=True) from exc
        except smtplib.SMTPResponseException as exc:
            reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if 500 <= exc.smtp_code < 600:
                raise PermanentSendError(reply) from exc
            raise TemporarySendError(reply, server_down=exc.smtp_code in _SERVER_CODES) from exc
        except (OSError, smtplib.SMTPException) as exc:
            # Refused connection, timeout, TLS failure, dropped session: the server, not the recipient.
            raise TemporarySendError(f"{type(exc).__name__}: {exc}", server_down=True) from exc


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _replies(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in recipients.items())


def send_with_retry(sender: Sender, message: EmailMessage, *, retries: int, backoff: float,
                    sleep: Callable[[float], None] = time.sleep) -> int:
    """Send, retrying temporary failures with exponential backoff. Returns the number of tries."""
    tries = 0
    while True:
        tries += 1
        try:
            sender.send(message)
            return tries
        except PermanentSendError as exc:
            exc.tries = tries
            raise
        except TemporarySendError as exc:
            if tries > retries:
                exc.tries = tries
                raise
            delay = backoff * 2 ** (tries - 1)
            log.info("send_retry", message_id=str(message["Message-ID"]), attempt=tries, delay_s=delay, error=str(exc))
            sleep(delay)


def make_sender(settings: Settings) -> Sender:
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpSender(settings.smtp_host, settings.smtp_port, security=settings.smtp_security,
                          user=settings.smtp_user, password=password, timeout=settings.smtp_timeout,
                          ca_file=settings.smtp_ca_file)
    return OutboxSender(settings.outbox_dir)
