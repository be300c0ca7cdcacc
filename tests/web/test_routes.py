"""Route tests: FastAPI's TestClient over a real SQLite database seeded by the real matcher."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from parsel import Selector
from sqlalchemy import func, select, update

from models import Feedback, Match, Municipality, Opportunity
from models.db import session_scope
from tests.web.conftest import csrf_of, sign_in
from tests.web.seed import XSS_MARK, Seeded, match_ids
from web.accounts import set_active, unlock

MEDELLIN_LIST = "/m/medellin/coincidencias"


def rows(html: str) -> list[Selector]:
    return Selector(text=html).css("table.matches tbody tr")


def row_titles(html: str) -> list[str]:
    return [" ".join(r.css("a.match-title::text").getall()).strip() for r in rows(html)]


@pytest.fixture
def medellin(client: TestClient, seeded: Seeded) -> TestClient:
    assert sign_in(client, seeded.medellin_user, seeded.password).status_code == 303
    return client


# ---------------------------------------------------------------- sign-in and sessions

def test_pages_need_a_session(client: TestClient):
    for path in (MEDELLIN_LIST, f"{MEDELLIN_LIST}.csv", "/amva", "/"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/ingresar?siguiente=")


def test_sign_in_sets_a_signed_httponly_samesite_cookie_and_goes_home(client: TestClient, seeded: Seeded):
    r = sign_in(client, seeded.medellin_user, seeded.password)
    assert r.status_code == 303 and r.headers["location"] == MEDELLIN_LIST
    cookie = r.headers["set-cookie"].lower()
    assert "convoca_sesion=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" in cookie  # base_url is https in these settings
    assert client.get(MEDELLIN_LIST).status_code == 200
    with session_scope(seeded.database_url) as s:
        from models import User
        user = s.scalars(select(User).where(User.username == seeded.medellin_user)).one()
        assert user.password_hash.startswith("$argon2id$") and seeded.password not in user.password_hash
        assert user.last_login_at is not None


def test_a_forged_session_cookie_is_a_signed_out_visitor(client: TestClient, seeded: Seeded):
    sign_in(client, seeded.medellin_user, seeded.password)
    payload, stamp, signature = client.cookies.get("convoca_sesion").rsplit(".", 2)
    session = json.loads(base64.b64decode(payload))
    with session_scope(seeded.database_url) as s:
        from models import User
        session["uid"] = s.scalar(select(User.id).where(User.username == seeded.amva_user))
    forged = base64.b64encode(json.dumps(session).encode()).decode()
    client.cookies.clear()
    client.cookies.set("convoca_sesion", f"{forged}.{stamp}.{signature}")
    assert client.get("/amva", follow_redirects=False).status_code == 303


def test_wrong_password_unknown_user_and_missing_csrf_are_refused(client: TestClient, seeded: Seeded):
    r = sign_in(client, seeded.medellin_user, "no-es-la-clave")
    assert r.status_code == 401 and "Usuario o contraseña incorrectos" in r.text
    r = sign_in(client, "nadie@ninguna.gov.co", seeded.password)
    assert r.status_code == 401 and "Usuario o contraseña incorrectos" in r.text
    r = client.post("/ingresar", data={"username": seeded.medellin_user, "password": seeded.password},
                    follow_redirects=False)
    assert r.status_code == 403
    assert client.get(MEDELLIN_LIST, follow_redirects=False).status_code == 303


def test_repeated_failures_lock_the_sign_in_until_an_operator_unlocks_it(client: TestClient, seeded: Seeded):
    for _ in range(5):
        assert sign_in(client, seeded.medellin_user, "no-es-la-clave").status_code == 401
    r = sign_in(client, seeded.medellin_user, seeded.password)  # even the right password waits now
    assert r.status_code == 429 and "Demasiados intentos fallidos" in r.text and "15 minutos" in r.text
    assert r.headers["retry-after"] == "900"
    assert client.get(MEDELLIN_LIST, follow_redirects=False).status_code == 303
    for _ in range(5):  # an invented name gets the same answer: the lock tells nothing about accounts
        sign_in(client, "inventado@medellin.gov.co", "no-es-la-clave")
    assert sign_in(client, "inventado@medellin.gov.co", "otra-clave").status_code == 429
    with session_scope(seeded.database_url) as s:
        assert unlock(s, seeded.medellin_user)
    assert sign_in(client, seeded.medellin_user, seeded.password).status_code == 303


def test_sign_in_follows_only_local_next_targets(client: TestClient, seeded: Seeded):
    token = csrf_of(client.get("/ingresar").text)
    r = client.post("/ingresar", data={"username": seeded.medellin_user, "password": seeded.password,
                                       "csrf_token": token, "siguiente": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == MEDELLIN_LIST
    client.cookies.clear()
    token = csrf_of(client.get("/ingresar").text)
    r = client.post("/ingresar", data={"username": seeded.medellin_user, "password": seeded.password,
                                       "csrf_token": token, "siguiente": f"{MEDELLIN_LIST}?orden=cierre"},
                    follow_redirects=False)
    assert r.headers["location"] == f"{MEDELLIN_LIST}?orden=cierre"


def test_sign_out_needs_csrf_and_ends_the_session(medellin: TestClient):
    assert medellin.post("/salir", data={}, follow_redirects=False).status_code == 403
    token = csrf_of(medellin.get(MEDELLIN_LIST).text)
    r = medellin.post("/salir", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ingresar"
    assert "Sesión cerrada" in medellin.get("/ingresar").text
    assert medellin.get(MEDELLIN_LIST, follow_redirects=False).status_code == 303


def test_a_disabled_account_loses_its_open_session(medellin: TestClient, seeded: Seeded):
    with session_scope(seeded.database_url) as s:
        set_active(s, seeded.medellin_user, False)
    assert medellin.get(MEDELLIN_LIST, follow_redirects=False).status_code == 303
    medellin.cookies.clear()
    assert sign_in(medellin, seeded.medellin_user, seeded.password).status_code == 401


def test_security_headers_forbid_scripts_and_framing(medellin: TestClient):
    r = medellin.get(MEDELLIN_LIST)
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- the list

def test_list_rows_show_every_field_and_only_this_municipality(medellin: TestClient, seeded: Seeded):
    html = medellin.get(MEDELLIN_LIST).text
    found = rows(html)
    with session_scope(seeded.database_url) as s:
        medellin_id = s.scalar(select(Municipality.id).where(Municipality.slug == "medellin"))
        expected = s.scalar(select(func.count()).select_from(Match).where(
            Match.municipality_id == medellin_id, Match.passed_filters.is_(True), Match.score >= 58))
    assert len(found) == expected >= 4
    for row in found:
        text = " ".join(t.strip() for t in row.css("::text").getall() if t.strip())
        assert row.css("span.score::text").get().strip().isdigit()
        assert row.css("div.reason::text").get().strip()
        assert "Cierra en" in text and "días" in text
        assert any(label in text for label in ("Financiera no reembolsable", "Cooperación técnica"))
        assert row.css("span.badge--new")
    titles = row_titles(html)
    assert any("Early childhood care" in t for t in titles)
    assert "Fundación Infancia Global" in html and "hasta USD 500.000" in html
    scores = [float(r.css("span.score::text").get()) for r in found]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(("query", "check"), [
    ("ods=4.2", lambda t: t and any("Early childhood" in x for x in t) and not any("laboratorios" in x for x in t)),
    ("ods=16", lambda t: any("laboratorios" in x for x in t) and not any("Early childhood" in x for x in t)),
    ("tipo=technical", lambda t: t and all(any(k in x for k in ("laboratorios", "early warning", "Resettlement", "Open government"))
                                            for x in t)),
    ("cierre=60", lambda t: t and not any("violencias" in x for x in t) and any("Early childhood" in x for x in t)),
    ("idioma=es", lambda t: t and all(any(k in x for k in ("laboratorios", "violencias", "Alimentación")) for x in t)),
    ("estado=applying", lambda t: t == []),
])
def test_filters_narrow_the_list(medellin: TestClient, query: str, check):
    r = medellin.get(f"{MEDELLIN_LIST}?{query}")
    assert r.status_code == 200
    assert check(row_titles(r.text)), (query, row_titles(r.text))


def test_min_score_filter_keeps_exactly_the_matches_at_or_above_it(medellin: TestClient, seeded: Seeded):
    with session_scope(seeded.database_url) as session:
        scores = sorted(session.scalars(
            select(Match.score).join(Municipality, Municipality.id == Match.municipality_id)
            .where(Municipality.slug == "medellin", Match.passed_filters.is_(True))), reverse=True)
    threshold = int(scores[2])  # an integer the form accepts, below the third best score
    expected = sum(1 for score in scores if score >= threshold)
    titles = row_titles(medellin.get(f"{MEDELLIN_LIST}?puntaje={threshold}&por_pagina=100").text)
    assert 3 <= len(titles) == expected < len(scores)


def test_profile_filter_keeps_one_profile(medellin: TestClient):
    html = medellin.get(f"{MEDELLIN_LIST}?perfil=buen-comienzo-primera-infancia&puntaje=0").text
    profiles = [r.css("td:nth-child(5)::text").get().strip() for r in rows(html)]
    assert len(profiles) >= 2 and all(p.startswith("Buen Comienzo") for p in profiles)
    assert 'value="buen-comienzo-primera-infancia" selected' in html


def test_sort_by_deadline_and_pagination(medellin: TestClient):
    html = medellin.get(f"{MEDELLIN_LIST}?orden=cierre&puntaje=0&por_pagina=10").text
    days = [int(r.css("span.countdown::text").get().split()[2]) for r in rows(html)]
    assert len(days) == 10 and days == sorted(days)
    sel = Selector(text=html)
    assert "página 1 de 2" in sel.css("p.count::text").get()
    next_link = sel.css("nav.pager a[rel=next]::attr(href)").get()
    assert "pagina=2" in next_link and "orden=cierre" in next_link and "puntaje=0" in next_link
    page2 = medellin.get(MEDELLIN_LIST + next_link).text
    more = [int(r.css("span.countdown::text").get().split()[2]) for r in rows(page2)]
    assert more and min(more) >= max(days)
    ids1 = set(Selector(text=html).css("a.match-title::attr(href)").getall())
    ids2 = set(Selector(text=page2).css("a.match-title::attr(href)").getall())
    assert ids1.isdisjoint(ids2)


def test_bad_filter_values_are_reported_not_fatal(medellin: TestClient):
    r = medellin.get(f"{MEDELLIN_LIST}?puntaje=mucho&ods=99&tipo=loan&idioma=xx&estado=raro&pagina=-4&cierre=pronto")
    assert r.status_code == 200
    for message in ("puntaje mínimo", "no es un ODS", "Tipo de cooperación desconocido", "Idioma desconocido",
                    "Estado desconocido", "ventana de cierre"):
        assert message in r.text
    assert rows(r.text)


def test_scraped_markup_is_escaped_everywhere(medellin: TestClient, seeded: Seeded):
    html = medellin.get(MEDELLIN_LIST).text
    assert "<script>document" not in html and "<img src=x" not in html and "<b>Youth" not in html
    assert "&lt;script&gt;document" in html and "&lt;b&gt;Youth Futures Fund&lt;/b&gt;" in html
    match_id = match_ids(seeded.database_url, "medellin", title_contains=XSS_MARK)[0]
    detail = medellin.get(f"{MEDELLIN_LIST}/{match_id}").text
    assert "<script>document" not in detail and "&lt;script&gt;document" in detail
    assert "<script" not in detail.lower()
    templates = Path(__file__).resolve().parents[2] / "web" / "templates"
    assert not [p.name for p in templates.glob("*.j2") if "|safe" in p.read_text().replace(" ", "")]


def test_a_javascript_url_is_never_a_link(medellin: TestClient, seeded: Seeded):
    match_id = match_ids(seeded.database_url, "medellin", title_contains="laboratorios")[0]
    with session_scope(seeded.database_url) as s:
        s.execute(update(Opportunity).where(Opportunity.title.contains("laboratorios"))
                  .values(url="javascript:alert(document.cookie)"))
    html = medellin.get(f"{MEDELLIN_LIST}/{match_id}").text
    assert 'href="javascript:' not in html and "Abrir la convocatoria en la fuente" not in html


# ---------------------------------------------------------------- detail

def test_detail_shows_call_links_explanation_history_and_other_municipalities(medellin: TestClient, seeded: Seeded):
    match_id = match_ids(seeded.database_url, "medellin", title_contains="Early childhood care")[0]
    html = medellin.get(f"{MEDELLIN_LIST}/{match_id}").text
    sel = Selector(text=html)
    assert "Early childhood care and nutrition" in sel.css("h1::text").get()
    facts = " ".join(sel.css("dl.facts ::text").getall())
    for expected in ("Fundación Infancia Global", "Financiera no reembolsable", "Abierta", "hasta USD 500.000",
                     "CO, PE, EC", "Gobierno local", "ONG / sociedad civil", "Inglés", "Cierra en 60 días"):
        assert expected in facts, expected
    sources = sel.css("#fuentes ~ ul a::text").getall()
    assert sorted(sources) == ["eu_sedia", "fundsforngos"]
    assert sel.css("figure.passage blockquote::text").get().strip()
    assert "4.2" in facts  # shared SDG target of Buen Comienzo
    requirement_rows = sel.css("section[aria-labelledby=por-que] table")[0].css("tbody tr")
    assert len(requirement_rows) == 7
    assert {r.css("span.check-status::text").get() for r in requirement_rows} <= {"Cumple", "No cumple", "No indicado"}
    breakdown = sel.css("section[aria-labelledby=por-que] table")[1]
    assert len(breakdown.css("tbody tr")) == 4
    history = " ".join(sel.css("section[aria-labelledby=historial] ::text").getall())
    assert "Cierre" in history  # a moved deadline is one change, one row
    assert len(sel.css("section[aria-labelledby=historial] tbody tr")) == 1
    others = " ".join(sel.css("section[aria-labelledby=otros] ::text").getall())
    assert "Otros perfiles de Medellín" in others


def test_detail_lists_the_other_municipalities_a_joint_call_fits(medellin: TestClient, seeded: Seeded):
    match_id = match_ids(seeded.database_url, "medellin", title_contains="early warning")[0]
    html = medellin.get(f"{MEDELLIN_LIST}/{match_id}").text
    with session_scope(seeded.database_url) as s:
        names = set(s.scalars(
            select(Municipality.name).join(Match, Match.municipality_id == Municipality.id)
            .join(Opportunity, Opportunity.id == Match.opportunity_id)
            .where(Opportunity.title.contains("early warning"), Match.above_threshold.is_(True),
                   Municipality.slug != "medellin")))
    assert len(names) >= 3
    others = " ".join(Selector(text=html).css("section[aria-labelledby=otros] li::text").getall())
    assert all(name in others for name in names)
    assert "Convocatoria conjunta candidata" in html


# ---------------------------------------------------------------- feedback

def _rate(client: TestClient, match_id: int, **data: str):
    token = csrf_of(client.get(f"{MEDELLIN_LIST}/{match_id}").text)
    return client.post(f"{MEDELLIN_LIST}/{match_id}/opinion", data={"csrf_token": token, **data},
                       follow_redirects=False)


def test_feedback_is_stored_per_user_and_reflected_in_the_list_at_once(medellin: TestClient, seeded: Seeded):
    first, second, third = match_ids(seeded.database_url, "medellin")[:3]
    r = _rate(medellin, first, verdict="relevant", siguiente=MEDELLIN_LIST)
    assert r.status_code == 303 and r.headers["location"] == MEDELLIN_LIST
    html = medellin.get(MEDELLIN_LIST).text
    assert "Calificación guardada: Relevante" in html
    status_of = {r.css("a.match-title::attr(href)").get().split("?")[0].rsplit("/", 1)[1]:
                 r.css("span.badge::text").getall()[-1] for r in rows(html)}
    assert status_of[str(first)] == "Revisada"

    r = _rate(medellin, second, verdict="not_relevant", reason="no_counterpart_funding", note="Sin contrapartida 2027")
    assert r.headers["location"] == f"{MEDELLIN_LIST}/{second}"
    assert f"/{second}?" not in medellin.get(MEDELLIN_LIST).text  # dismissed leaves the default list
    assert f"/{second}?" in medellin.get(f"{MEDELLIN_LIST}?estado=dismissed").text

    _rate(medellin, third, verdict="applying")
    assert f"/{third}?" in medellin.get(f"{MEDELLIN_LIST}?estado=applying").text

    with session_scope(seeded.database_url) as s:
        stored = s.scalars(select(Feedback).order_by(Feedback.id)).all()
        assert [(f.match_id, f.verdict, f.reason) for f in stored] == [
            (first, "relevant", None), (second, "not_relevant", "no_counterpart_funding"), (third, "applying", None)]
        assert {f.user for f in stored} == {seeded.medellin_user}
        assert all(f.created_at > datetime.now(UTC) - timedelta(minutes=5) for f in stored)
        assert stored[1].note == "Sin contrapartida 2027"
        statuses = dict(s.execute(select(Match.id, Match.status).where(Match.id.in_([first, second, third]))).all())
        assert statuses == {first: "reviewed", second: "dismissed", third: "applying"}
    detail = medellin.get(f"{MEDELLIN_LIST}/{second}").text
    assert "Sin recursos de contrapartida" in detail and seeded.medellin_user in detail


def test_not_relevant_needs_a_reason_and_bad_verdicts_store_nothing(medellin: TestClient, seeded: Seeded):
    match_id = match_ids(seeded.database_url, "medellin")[0]
    r = _rate(medellin, match_id, verdict="not_relevant")
    assert r.status_code == 303
    assert "Indique por qué no es relevante" in medellin.get(r.headers["location"]).text
    _rate(medellin, match_id, verdict="maybe")
    _rate(medellin, match_id, verdict="not_relevant", reason="porque-si")
    token = csrf_of(medellin.get(MEDELLIN_LIST).text)
    r = medellin.post(f"{MEDELLIN_LIST}/{match_id}/opinion", data={"verdict": "relevant", "csrf_token": token + "x"})
    assert r.status_code == 403
    with session_scope(seeded.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 0
        assert s.get(Match, match_id).status == "new"


# ---------------------------------------------------------------- exports

def test_exports_follow_the_current_filters(medellin: TestClient, seeded: Seeded):
    query = "tipo=technical&puntaje=0"
    listed = row_titles(medellin.get(f"{MEDELLIN_LIST}?{query}").text)
    assert listed

    r = medellin.get(f"{MEDELLIN_LIST}.csv?{query}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="convoca-medellin-' in r.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["Convocatoria"] for row in table] == listed
    assert all(row["Tipo de cooperación"] == "Cooperación técnica" for row in table)
    assert all(row["Detalle en Convoca"].startswith("https://convoca.example.org/m/medellin/coincidencias/")
               for row in table)
    assert all(row["Cierre"][:4].isdigit() and int(row["Días para el cierre"]) > 0 for row in table)

    r = medellin.get(f"{MEDELLIN_LIST}.xlsx?{query}")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][1] == "Convocatoria" and [v[1] for v in values[1:]] == listed
    assert isinstance(values[1][9], datetime)

    r = medellin.get(f"{MEDELLIN_LIST}.ics?{query}")
    assert r.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(r.content).walk("VEVENT")
    assert sorted(str(e["SUMMARY"]).removeprefix("Cierre: ") for e in events) == sorted(set(listed))
    with session_scope(seeded.database_url) as s:
        deadlines = {o.title: o.deadline for o in s.scalars(select(Opportunity))}
    for event in events:
        title = str(event["SUMMARY"]).removeprefix("Cierre: ")
        assert event.decoded("DTSTART") == deadlines[title].astimezone(
            __import__("zoneinfo").ZoneInfo("America/Bogota")).date()
        assert event.walk("VALARM")


def test_spreadsheet_exports_neutralise_formulas_in_scraped_text(medellin: TestClient, seeded: Seeded):
    with session_scope(seeded.database_url) as s:
        s.execute(update(Opportunity).where(Opportunity.title.contains("laboratorios"))
                  .values(title='=HYPERLINK("http://evil.example","clic") laboratorios', funder="@SUM(A1)"))
    table = list(csv.DictReader(io.StringIO(medellin.get(f"{MEDELLIN_LIST}.csv?tipo=technical").content.decode("utf-8-sig"))))
    row = next(r for r in table if "laboratorios" in r["Convocatoria"])
    assert row["Convocatoria"].startswith("'=HYPERLINK") and row["Financiador"] == "'@SUM(A1)"
    sheet = openpyxl.load_workbook(io.BytesIO(medellin.get(f"{MEDELLIN_LIST}.xlsx?tipo=technical").content)).active
    assert all(not str(c.value).startswith("=") for r in sheet.iter_rows() for c in r if c.value is not None)


# ---------------------------------------------------------------- access between municipalities

def test_a_formulator_cannot_reach_another_municipality(medellin: TestClient, seeded: Seeded):
    envigado_match = match_ids(seeded.database_url, "envigado")[0]
    for path in ("/m/envigado/coincidencias", f"/m/envigado/coincidencias/{envigado_match}",
                 "/m/envigado/coincidencias.csv", "/m/envigado/coincidencias.xlsx", "/m/envigado/coincidencias.ics"):
        r = medellin.get(path)
        assert r.status_code == 403 and "Acceso no permitido" in r.text, path
    # Another municipality's match under one's own slug simply does not exist.
    assert medellin.get(f"{MEDELLIN_LIST}/{envigado_match}").status_code == 404
    token = csrf_of(medellin.get(MEDELLIN_LIST).text)
    r = medellin.post(f"/m/envigado/coincidencias/{envigado_match}/opinion",
                      data={"verdict": "relevant", "csrf_token": token})
    assert r.status_code == 403
    r = medellin.post(f"{MEDELLIN_LIST}/{envigado_match}/opinion", data={"verdict": "relevant", "csrf_token": token})
    assert r.status_code == 404
    assert medellin.get("/amva").status_code == 403
    with session_scope(seeded.database_url) as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 0
        assert s.get(Match, envigado_match).status == "new"


def test_amva_sees_every_municipality_and_the_overview(client: TestClient, seeded: Seeded):
    r = sign_in(client, seeded.amva_user, seeded.password)
    assert r.headers["location"] == "/amva"
    html = client.get("/amva").text
    with session_scope(seeded.database_url) as s:
        names = list(s.scalars(select(Municipality.name)))
    assert all(name in html for name in names)
    sel = Selector(text=html)
    joint = " ".join(sel.css("section[aria-labelledby=conjuntas] ::text").getall())
    assert "Community early warning systems" in joint and "Medellín" in joint
    assert "Salud de las fuentes" in html and "Boletines semanales" in html
    envigado = client.get("/m/envigado/coincidencias")
    assert envigado.status_code == 200 and "modo de consulta" in envigado.text
    assert not Selector(text=envigado.text).css("form.rate-form")
    envigado_match = match_ids(seeded.database_url, "envigado")[0]
    token = csrf_of(envigado.text)
    r = client.post(f"/m/envigado/coincidencias/{envigado_match}/opinion", data={"verdict": "relevant", "csrf_token": token})
    assert r.status_code == 403
    assert client.get("/ir?m=bello", follow_redirects=False).headers["location"] == "/m/bello/coincidencias"


def test_overview_reports_source_runs_and_digest_ledger(client: TestClient, seeded: Seeded):
    from models import DigestLedger, Source, SourceRun
    now = datetime.now(UTC)
    with session_scope(seeded.database_url) as s:
        src = Source(slug="minciencias", name="MinCiencias")
        s.add(src)
        s.flush()
        s.add(SourceRun(source_id=src.id, started_at=now, finished_at=now, status="ok", items_seen=0,
                        healthy=False, message="ninguna convocatoria en esta ejecución"))
        medellin_id = s.scalar(select(Municipality.id).where(Municipality.slug == "medellin"))
        s.add(DigestLedger(municipality_id=medellin_id, recipient="a@medellin.gov.co", period="2026-W48",
                           message_id="<x@convoca>", status="failed", attempts=3, last_error="SMTP 421 ocupado"))
    sign_in(client, seeded.amva_user, seeded.password)
    html = client.get("/amva").text
    assert "1 fuente con problemas: MinCiencias" in html
    assert "2026-W48" in html and "SMTP 421 ocupado" in html
