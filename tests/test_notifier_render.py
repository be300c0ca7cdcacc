"""Every template rendered with a realistic context; the .ics parsed back; the HTML looked at in Chromium."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from jinja2 import UndefinedError

from crawlers.service import SourceHealth
from notifier.calendar import build_calendar, event_uid
from notifier.digest import (
    CallView,
    ChangeItem,
    ClosingItem,
    Digest,
    FieldChange,
    JointItem,
    NewItem,
    ProfileGroup,
    Reason,
)
from notifier.formatting import BOGOTA, amount_range, day_date, money, pesos
from notifier.health import HealthReport
from notifier.render import environment, render

TODAY = date(2026, 3, 2)  # a Monday
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _deadline(days: int) -> datetime:
    return datetime(2026, 3, 2, 17, 0, tzinfo=BOGOTA) + timedelta(days=days)


def _call(oid: int, title: str, days: int | None, *, lead: int = 21, **fields: object) -> CallView:
    deadline = _deadline(days) if days is not None else None
    effective = (deadline.date() - timedelta(days=lead)) if deadline else None
    base: dict[str, object] = {
        "opportunity_id": oid, "title": title, "url": f"https://ec.europa.eu/topic-details/CALL-{oid}",
        "funder": "Comisión Europea", "cooperation_type": "financial_non_reimbursable", "amount_min": None,
        "amount_max": None, "currency": None, "amount_cop": None, "deadline": deadline, "days_left": days,
        "lead_days": lead, "effective_deadline": effective,
        "days_to_effective": (effective - TODAY).days if effective else None, "eligible_countries": None,
        "eligible_applicants": None, "cofinancing_required": None}
    base.update(fields)
    return CallView(**base)  # type: ignore[arg-type]


def realistic_digest() -> Digest:
    bikes = _call(11, "Urban cycling infrastructure for Latin American cities", 12, amount_min=500_000,
                  amount_max=1_500_000, currency="EUR", amount_cop=6_612_000_000, eligible_countries=["CO", "PE"],
                  eligible_applicants=["local_government", "ngo"], cofinancing_required=20.0)
    walk = _call(12, "Safe streets & walkable neighbourhoods <pilot> programme", 95, funder="Bloomberg Philanthropies",
                 amount_max=250_000, currency="USD", amount_cop=1_050_000_000)
    rivers = _call(13, "Nature-based solutions for urban streams", None, funder=None, cooperation_type=None)
    soon = _call(14, "Programa de ciudades resilientes al clima", 30, lead=21)
    moved = _call(15, "Fondo de movilidad eléctrica urbana", 60, deadline_revision=1, amount_max=2_000_000, currency="USD")
    joint = _call(16, "Call for metropolitan air quality networks", 80)
    groups = [
        ProfileGroup("Red de ciclorrutas y caminabilidad", [
            NewItem(bikes, "Red de ciclorrutas y caminabilidad", 91.4,
                    Reason(["ciclorruta", "cycling infrastructure"], ["11.2", "3.6"], ["11", "3"]), [], rank=1),
            NewItem(walk, "Red de ciclorrutas y caminabilidad", 77.2, Reason([], [], ["11"]), ["eligible_countries"], rank=2),
        ]),
        ProfileGroup("Recuperación de quebradas urbanas", [
            NewItem(rivers, "Recuperación de quebradas urbanas", 66.0, Reason([], [], []), [], rank=3),
        ]),
    ]
    return Digest(
        "digest", "envigado", "Envigado", False, "2026-W10", TODAY, groups=groups,
        closing=[ClosingItem(soon, "Gestión del riesgo")],
        changes=[ChangeItem(moved, "Movilidad eléctrica", [
            FieldChange("deadline", _deadline(30), _deadline(60)),
            FieldChange("amount_max", 1_500_000, 2_000_000)])],
        joint=[JointItem(joint, ["Bello", "Envigado", "Itagüí"], 82.0)],
    )


def test_formatting_is_es_co():
    assert money(1_500_000, "EUR") == "EUR 1.500.000"
    assert amount_range(500_000, 1_500_000, "EUR") == "EUR 500.000 – 1.500.000"
    assert amount_range(None, 250_000, "USD") == "hasta USD 250.000"
    assert amount_range(None, None, "USD") is None
    assert pesos(6_612_000_000) == "COP 6.612 millones"
    assert pesos(950_000) == "COP 950.000"
    assert day_date(date(2026, 3, 13)) == "viernes 13 de marzo de 2026"


def test_digest_templates_render_every_section():
    digest = realistic_digest()
    out = render("digest", digest.context("https://convoca.example.gov.co/"))

    assert out.subject == ("Convoca · Envigado: 3 convocatorias nuevas, 1 cierra pronto, 1 cambio "
                           "(semana del 2 de marzo de 2026)")
    text = out.text
    # Ranked items, numbered across profiles, each with its facts in Spanish.
    positions = [text.index(f"{n}. {t}") for n, t in enumerate(
        [i.call.title for i in digest.items], start=1)]
    assert positions == sorted(positions)
    assert "== Red de ciclorrutas y caminabilidad ==" in text
    assert "Cierre: cierra en 12 días, el sábado 14 de marzo de 2026" in text
    assert "Monto: EUR 500.000 – 1.500.000 (≈ COP 6.612 millones)" in text
    assert "Monto: hasta USD 250.000 (≈ COP 1.050 millones)" in text
    assert "países: Colombia, Perú; solicitantes: Gobierno local, ONG / sociedad civil; cofinanciación: 20 %" in text
    assert "países: no indicado; solicitantes: no indicado; cofinanciación: no indicado" in text
    assert "Cierre: fecha de cierre no indicada" in text
    assert "Financiador no indicado · tipo de cooperación no indicado" in text
    assert ("Por qué encaja: Menciona «ciclorruta», «cycling infrastructure»; comparte las metas ODS 11.2, 3.6. "
            "Puntaje 91,4/100.") in text
    assert "Por qué encaja: Apunta a los ODS 11." in text
    assert "Por qué encaja: Su texto es afín a la descripción del perfil." in text
    assert "== Cierran pronto ==" in text
    assert "Fecha límite interna 11 de marzo de 2026 (en 9 días), con 21 días de preparación antes del cierre" in text
    assert "== Cambios ==" in text
    assert "Fecha de cierre: 1 de abril de 2026 → 1 de mayo de 2026" in text
    assert "Monto máximo: USD 1.500.000 → USD 2.000.000" in text
    assert "Encaja con 3 municipios: Bello, Envigado, Itagüí." in text
    assert "https://convoca.example.gov.co/m/envigado/coincidencias" in text
    assert "Safe streets & walkable neighbourhoods <pilot> programme" in text  # plain text is not escaped

    html = out.html
    assert "Safe streets &amp; walkable neighbourhoods &lt;pilot&gt; programme" in html
    assert "<pilot>" not in html
    assert "<style" not in html and "<script" not in html.lower()
    assert not re.search(r"<img|url\(|@import|<link", html, re.IGNORECASE), "no remote resources"
    assert 'style="' in html  # the CSS was inlined
    for heading in ("Cierran pronto", "Cambios", "Para una postulación conjunta", "Recuperación de quebradas urbanas"):
        assert heading in html
    assert 'href="https://convoca.example.gov.co/m/envigado/coincidencias"' in html
    assert html.index("Urban cycling infrastructure") < html.index("Safe streets") < html.index("Nature-based solutions")


def test_reminder_templates_render():
    soon = _call(14, "Programa de ciudades resilientes al clima", 23, lead=21)
    digest = Digest("reminder", "envigado", "Envigado", False, "2026-03-02", TODAY,
                    reminders=[ClosingItem(soon, "Gestión del riesgo")])
    out = render("reminder", digest.context("http://127.0.0.1:8000"))
    assert out.subject == "Convoca · Envigado: recordatorio, 1 convocatoria llega a su fecha límite interna"
    assert "Fecha límite interna 4 de marzo de 2026 (en 2 días), con 21 días de preparación" in out.text
    assert "cierra en 23 días" in out.text
    assert "perfil «Gestión del riesgo»" in out.html
    assert "<style" not in out.html


def test_templates_refuse_undefined_values():
    env = environment()
    with pytest.raises(UndefinedError):
        env.get_template("digest/body.txt.j2").render(digest=realistic_digest(), municipality="Envigado")
    with pytest.raises(UndefinedError):
        env.get_template("digest/subject.txt.j2").render(municipality="Envigado")


def test_every_template_file_is_used_and_renders():
    digest = realistic_digest()
    context = digest.context("http://127.0.0.1:8000")
    names = sorted(environment().list_templates(extensions=["j2"]))
    rendered = {f"{kind}/{part}" for kind in ("digest", "reminder") for part in
                ("subject.txt.j2", "body.html.j2", "body.txt.j2")}
    for name in rendered:
        kind = name.split("/")[0]
        ctx = context if kind == "digest" else Digest(
            "reminder", "envigado", "Envigado", False, "2026-03-02", TODAY,
            reminders=digest.closing).context("http://127.0.0.1:8000")
        assert environment().get_template(name).render(**ctx).strip()
    broken = SourceHealth("undp", "UNDP procurement notices", datetime(2026, 3, 2, 6, tzinfo=UTC), "ok", 10, 6, 0, 0,
                          4, {"missing_title": 4}, 0, 12.5, False, "descartó el 40 % de los elementos")
    health = HealthReport("health", "amva", "AMVA", "2026-03-02", TODAY, [broken], 14)
    health_parts = {f"health/{part}" for part in ("subject.txt.j2", "body.html.j2", "body.txt.j2")}
    for name in health_parts:
        assert "UNDP" in environment().get_template(name).render(**health.context("http://127.0.0.1:8000")) \
            or name.endswith("subject.txt.j2")
    calendar = build_calendar(digest, datetime(2026, 3, 2, 12, tzinfo=UTC))
    assert calendar is not None
    partials = {"_layout.html.j2", "_shared.txt.j2"}
    calendar_parts = {n for n in names if n.startswith("calendar/")}
    assert set(names) == rendered | health_parts | partials | calendar_parts
    assert calendar_parts == {"calendar/summary.txt.j2", "calendar/description.txt.j2", "calendar/alarm.txt.j2",
                              "calendar/name.txt.j2"}


def test_calendar_lists_each_deadline_once_with_an_alarm_at_the_effective_deadline():
    digest = realistic_digest()
    text = build_calendar(digest, datetime(2026, 3, 2, 12, tzinfo=UTC))
    assert text is not None
    cal = Calendar.from_ical(text)
    events = cal.walk("VEVENT")
    with_deadline = [c for c in digest.calls() if c.deadline is not None]
    assert len(events) == len(with_deadline) == 5  # the call without a deadline has no event
    by_uid = {str(e["UID"]): e for e in events}
    bikes = by_uid[event_uid("envigado", 11)]
    assert bikes.decoded("DTSTART") == date(2026, 3, 14)
    assert str(bikes["SUMMARY"]) == "Cierre: Urban cycling infrastructure for Latin American cities"
    assert "EUR 500.000 – 1.500.000" in str(bikes["DESCRIPTION"])
    alarm = bikes.walk("VALARM")[0]
    assert alarm.decoded("TRIGGER") == timedelta(days=-21)
    moved = by_uid[event_uid("envigado", 15)]
    assert int(moved["SEQUENCE"]) == 1  # a changed deadline updates the same event
    assert str(cal["METHOD"]) == "PUBLISH"


@pytest.mark.browser
def test_digest_html_in_headless_chromium(tmp_path: Path):
    """Render the HTML digest in Debian's Chromium and keep a PNG for people to look at."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed (run `make browser`)")
    digest = realistic_digest()
    html = render("digest", digest.context("https://convoca.example.gov.co")).html
    reminder = render("reminder", Digest("reminder", "envigado", "Envigado", False, "2026-03-02", TODAY,
                                         reminders=digest.closing).context("https://convoca.example.gov.co")).html
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            for width, name in ((760, "digest-desktop.png"), (390, "digest-phone.png")):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.on("request", lambda r: requests.append(r.url))
                page.set_content(html, wait_until="load")
                sheet = page.evaluate("() => document.querySelector('table[width=\"640\"]').getBoundingClientRect().width")
                overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                visible = page.inner_text("body")
                page.screenshot(path=str(ARTIFACTS / name), full_page=True)
                assert sheet <= 640
                assert overflow <= 0, f"horizontal scrolling at {width}px"
                assert "Urban cycling infrastructure for Latin American cities" in visible
                assert "Safe streets & walkable neighbourhoods <pilot> programme" in visible
                page.close()
            page = browser.new_page(viewport={"width": 760, "height": 700})
            page.on("request", lambda r: requests.append(r.url))
            page.set_content(reminder, wait_until="load")
            assert "Programa de ciudades resilientes al clima" in page.inner_text("body")
            page.screenshot(path=str(ARTIFACTS / "reminder-desktop.png"), full_page=True)
            page.close()
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith(("about:", "data:"))] == [], "the digest loaded something remote"
    for name in ("digest-desktop.png", "digest-phone.png", "reminder-desktop.png"):
        png = (ARTIFACTS / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
