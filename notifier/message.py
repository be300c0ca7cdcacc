"""Build the email of one ledger row from its edition: the same bytes on every retry."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from notifier.formatting import BOGOTA

CALENDAR_FILENAME = "convocatorias.ics"


def mail_domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    return address.rsplit("@", 1)[1] if "@" in address else "convoca.localhost"


# "Message-ID: " + the id must fit one 78-character header line: a folded Message-ID reads back
# with a leading space in some parsers, and then a retry would not look like the same message.
_MESSAGE_ID_MAX = 78 - len("Message-ID: ")


def message_id_for(kind: str, slug: str, recipient: str, period: str, domain: str) -> str:
    """Stable per (kind, municipality, recipient, period): a retry reuses it, so a receiving
    server (or a mail store) sees the same message again, not a new one."""
    digest = hashlib.sha256(f"{kind}|{slug}|{recipient.lower()}|{period}".encode()).hexdigest()
    readable = f"<{kind}.{slug}.{period}.{digest[:12]}@{domain}>"
    return readable if len(readable) <= _MESSAGE_ID_MAX else f"<{digest[:24]}@{domain}>"


def build_message(*, subject: str, text: str, html: str, calendar: str | None, mail_from: str,
                  recipient: str, recipient_name: str | None, message_id: str, date: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = mail_from
    try:
        msg["To"] = Address(display_name=recipient_name or "", addr_spec=recipient)
    except ValueError:
        # A non-ASCII local part: only a server with SMTPUTF8 can take it, and smtplib asks for that.
        msg["To"] = f"{recipient_name} <{recipient}>" if recipient_name else recipient
    msg["Date"] = format_datetime(date.astimezone(BOGOTA))
    msg["Message-ID"] = message_id
    msg["Content-Language"] = "es-CO"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    if calendar:
        msg.add_attachment(calendar, subtype="calendar", filename=CALENDAR_FILENAME,
                           params={"method": "PUBLISH"})
    # Boundaries derived from the Message-ID instead of random ones: a retry is byte-identical.
    seed = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    for n, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_convoca_{seed}_{n}")
    return msg
