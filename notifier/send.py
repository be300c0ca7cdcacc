"""Senders behind one protocol: SMTP, and the outbox folder (the default with no SMTP)."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from convoca.errors import NotifyError
from convoca.settings import Settings


class TemporarySendError(NotifyError):
    """Worth retrying: refused connection, timeout, 4xx."""


class PermanentSendError(NotifyError):
    """Not worth retrying for this recipient: 5xx."""


class Sender(Protocol):
    name: str

    def send(self, message: EmailMessage) -> None: ...


class OutboxSender:
    """Writes each message as an .eml file; the name is stable, so a retry overwrites, never duplicates."""

    name = "outbox"

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path_for(self, message: EmailMessage) -> Path:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(message["Message-ID"]).strip("<>"))
        return self.folder / f"{stem}.eml"

    def send(self, message: EmailMessage) -> None:
        path = self.path_for(message)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(message.as_bytes())
        os.replace(tmp, path)


class SmtpSender:
    name = "smtp"

    def __init__(self, host: str, port: int, *, security: str = "starttls", user: str | None = None,
                 password: str | None = None, timeout: float = 30.0):
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.timeout = user, password, timeout

    def send(self, message: EmailMessage) -> None:
        try:
            if self.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if self.user and self.password:
                    client.login(self.user, self.password)
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= c < 600 for c in codes):
                raise PermanentSendError(f"recipient refused: {exc.recipients}") from exc
            raise TemporarySendError(f"recipient deferred: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentSendError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise TemporarySendError(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporarySendError(f"{type(exc).__name__}: {exc}") from exc


def make_sender(settings: Settings) -> Sender:
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpSender(settings.smtp_host, settings.smtp_port, security=settings.smtp_security,
                          user=settings.smtp_user, password=password, timeout=settings.smtp_timeout)
    return OutboxSender(settings.outbox_dir)
