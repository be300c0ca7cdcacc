"""The .ics attachment: one all-day event per listed deadline, with an alarm at the effective deadline.

Each event's UID is stable per (municipality, call), and its SEQUENCE counts deadline changes,
so importing next week's file updates an extended deadline instead of adding a second event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, Event

from notifier.digest import CallView, Digest
from notifier.formatting import local_date
from notifier.render import render_text

UID_DOMAIN = "convoca.amva.example.gov.co"


def event_uid(municipality_slug: str, opportunity_id: int) -> str:
    return f"convocatoria-{opportunity_id}-{municipality_slug}@{UID_DOMAIN}"


def _event(digest: Digest, call: CallView, stamp: datetime) -> Event:
    assert call.deadline is not None
    day = local_date(call.deadline)
    context = {"call": call, "digest": digest}
    event = Event()
    event.add("uid", event_uid(digest.municipality_slug, call.opportunity_id))
    event.add("dtstamp", stamp)
    event.add("sequence", call.deadline_revision)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", render_text("calendar/summary.txt.j2", context))
    event.add("description", render_text("calendar/description.txt.j2", context))
    event.add("url", call.url)
    event.add("transp", "TRANSPARENT")
    if call.lead_days > 0:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", render_text("calendar/alarm.txt.j2", context))
        alarm.add("trigger", timedelta(days=-call.lead_days))
        event.add_component(alarm)
    return event


def build_calendar(digest: Digest, stamp: datetime) -> str | None:
    """The iCalendar text of the edition's deadlines, or None when no listed call has one."""
    calls = [c for c in digest.calls() if c.deadline is not None]
    if not calls:
        return None
    cal = Calendar()
    cal.add("prodid", "-//Convoca//Area Metropolitana del Valle de Aburra//ES")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", render_text("calendar/name.txt.j2", {"digest": digest}))
    cal.add("x-wr-timezone", "America/Bogota")
    for call in calls:
        cal.add_component(_event(digest, call, stamp))
    return cal.to_ical().decode("utf-8")
