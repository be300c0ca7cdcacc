"""The current filtered list as CSV, XLSX and an .ics calendar of deadlines."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event
from openpyxl import Workbook
from openpyxl.styles import Font

from models import Municipality
from notifier.formatting import BOGOTA, days_until
from web.matches import MatchRow
from web.present import COOPERATION_LABELS, LANGUAGE_LABELS, MATCH_STATUS_LABELS, amount_text

HEADERS = (
    "Puntaje", "Convocatoria", "Financiador", "Tipo de cooperación", "Monto", "Monto mínimo", "Monto máximo",
    "Moneda", "Monto aproximado en COP", "Cierre", "Días para el cierre", "Idioma", "Perfil", "Estado",
    "Por qué encaja", "Enlace de la convocatoria", "Detalle en Convoca",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: str | None) -> str:
    """Scraped text must not become a spreadsheet formula."""
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def detail_url(base_url: str, municipality: Municipality, row: MatchRow) -> str:
    return f"{base_url.rstrip('/')}/m/{municipality.slug}/coincidencias/{row.match_id}"


def _deadline_date(row: MatchRow) -> date | None:
    return row.deadline.astimezone(BOGOTA).date() if row.deadline else None


def _values(row: MatchRow, municipality: Municipality, base_url: str, today: date) -> list[object]:
    return [
        row.score, _cell_text(row.title), _cell_text(row.funder),
        COOPERATION_LABELS.get(row.cooperation_type or "", "no indicado"),
        amount_text(row.amount_min, row.amount_max, row.currency), row.amount_min, row.amount_max, row.currency or "",
        round(row.amount_cop) if row.amount_cop is not None else None, _deadline_date(row),
        days_until(row.deadline, today), LANGUAGE_LABELS.get(row.language or "", "no indicado"),
        _cell_text(row.profile_title), MATCH_STATUS_LABELS.get(row.status, row.status), _cell_text(row.reason),
        _cell_text(row.url), detail_url(base_url, municipality, row),
    ]


def to_csv(rows: Sequence[MatchRow], municipality: Municipality, base_url: str, today: date) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        values = _values(row, municipality, base_url, today)
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in values])
    # The byte-order mark makes spreadsheet programs read the accents as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[MatchRow], municipality: Municipality, base_url: str, today: date) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Coincidencias"
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(_values(row, municipality, base_url, today))
        last = sheet.max_row
        sheet.cell(last, 10).number_format = "yyyy-mm-dd"
        for col in (16, 17):
            link = sheet.cell(last, col)
            if isinstance(link.value, str) and link.value.startswith(("http://", "https://")):
                link.hyperlink = link.value
    for letter, width in zip("ABCDEFGHIJKLMNOPQ", (9, 60, 30, 26, 28, 14, 14, 8, 18, 12, 10, 10, 36, 12, 50, 40, 40)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_ics(rows: Sequence[MatchRow], municipality: Municipality, base_url: str, *, now: datetime | None = None) -> bytes:
    """One all-day event per call on its closing date (Bogotá), with a reminder a week before."""
    stamp = now or datetime.now(UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//Convoca//Convocatorias AMVA//ES")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Convoca · cierres de {municipality.name}")
    calendar.add("x-wr-timezone", "America/Bogota")
    seen: set[int] = set()
    for row in rows:
        day = _deadline_date(row)
        if day is None or row.opportunity_id in seen or row.deadline is None:
            continue
        seen.add(row.opportunity_id)
        local = row.deadline.astimezone(BOGOTA)
        event = Event()
        event.add("uid", f"convoca-{municipality.slug}-{row.opportunity_id}@convoca")
        event.add("dtstamp", stamp)
        event.add("summary", f"Cierre: {row.title}")
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("url", row.url)
        event.add("description", "\n".join(filter(None, [
            f"Financiador: {row.funder}" if row.funder else None,
            f"Cierra el {local:%Y-%m-%d} a las {local:%H:%M} (hora de Bogotá).",
            f"Perfil: {row.profile_title} · puntaje {row.score:g}",
            row.reason,
            f"Convocatoria: {row.url}",
            f"Detalle en Convoca: {detail_url(base_url, municipality, row)}",
        ])))
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"Cierra en 7 días: {row.title}")
        alarm.add("trigger", timedelta(days=-7))
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
