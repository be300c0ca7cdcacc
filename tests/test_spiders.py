"""Every spider through the real Scrapy engine, in its own process, against the project's
recordings served by the local replay server; then against a malformed or truncated response
(tests/fixtures/malformed/<source>/ replaces one recorded file).

Deadlines are compared as values, never against today: the crawls run in a child process
where time cannot be frozen, and no assertion here depends on the day the suite runs.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from crawlers.replay import RECORDINGS_DIR
from models import Opportunity, Source, SourceRun
from models.db import session_factory
from tests.conftest import FIXTURES
from tests.crawl_helpers import run_spider

MALFORMED = FIXTURES / "malformed"


def crawl(source: str, database_url: str, folder: Path | None = None) -> dict[str, Opportunity]:
    proc = run_spider(source, [folder or RECORDINGS_DIR / source], database_url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with session_factory(database_url)() as s:
        return {f"{o.source}:{o.source_id}": o for o in s.scalars(select(Opportunity))}


def runs(database_url: str) -> dict[str, SourceRun]:
    with session_factory(database_url)() as s:
        rows = s.execute(select(Source.slug, SourceRun).join(SourceRun.source)).all()
    return {slug: run for slug, run in rows}


def with_malformed(source: str, tmp_path: Path) -> Path:
    """A copy of the source's recording with the malformed fixture files laid over it."""
    folder = tmp_path / source
    shutil.copytree(RECORDINGS_DIR / source, folder)
    replaced = list((MALFORMED / source).iterdir())
    assert replaced, f"no malformed fixture for {source}"
    for path in replaced:
        shutil.copy(path, folder / path.name)
    return folder


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ------------------------------------------------------------------ recordings


def test_grants_gov_keeps_only_calls_open_to_foreign_applicants(sqlite_url):
    rows = crawl("grants_gov", sqlite_url)
    assert len(rows) == 6  # 8 listed on two search pages; 2 admit only U.S. applicants
    assert "grants_gov:359100" not in rows and "grants_gov:359145" not in rows
    embassy = rows["grants_gov:358901"]
    assert embassy.deadline == utc(2027, 5, 1, 3, 59)  # "Apr 30, 2027 11:59:00 PM EDT"
    assert (embassy.amount_min, embassy.amount_max, embassy.currency) == (25000, 100000, "USD")
    assert embassy.url == "https://www.grants.gov/search-results-detail/358901"
    assert rows["grants_gov:358944"].eligible_countries == ["CO", "EC", "PE", "BO", "PY", "BR"]
    forecast = rows["grants_gov:359012"]
    assert forecast.status == "forthcoming" and forecast.deadline is not None
    run = runs(sqlite_url)["grants_gov"]
    assert run.healthy and run.items_new == 6 and run.items_dropped == 0


def test_worldbank_notices_for_colombia_without_contract_awards(sqlite_url):
    rows = crawl("worldbank", sqlite_url)
    assert len(rows) == 7 and "worldbank:OP00412655" not in rows  # the contract award
    notice = rows["worldbank:OP00412871"]
    assert notice.cooperation_type == "procurement" and notice.eligible_countries == ["CO"]
    assert notice.deadline == utc(2027, 1, 29, 22)  # 17:00 in Bogotá
    assert notice.language == "es" and "Valle de Aburrá" in notice.title
    assert rows["worldbank:OP00412301"].status == "closed"  # its deadline passed before the recording


def test_secop_processes_of_the_municipalities_and_national_entities(sqlite_url):
    rows = crawl("secop", sqlite_url)
    assert len(rows) == 9
    envigado = rows["secop:CO1.REQ.8812034"]
    assert envigado.funder == "ALCALDIA DE ENVIGADO (Envigado)"
    assert (envigado.amount_max, envigado.currency, envigado.amount_cop) == (1_850_000_000, "COP", 1_850_000_000)
    assert envigado.deadline == utc(2026, 12, 14, 15)  # a floating timestamp: 10:00 in Colombia
    assert envigado.url.startswith("https://community.secop.gov.co/Public/Tendering/OpportunityDetail/")
    assert {o.cooperation_type for o in rows.values()} == {"procurement"}
    assert rows["secop:CO1.REQ.8812310"].funder == "DEPARTAMENTO NACIONAL DE PLANEACION"


def test_fundsforngos_reads_deadline_amount_and_countries_from_the_post(sqlite_url):
    rows = crawl("fundsforngos", sqlite_url)
    assert len(rows) == 9  # 4 + 3 on the Colombia feed's two pages, 3 on the other, 1 in both
    food = rows["fundsforngos:241055"]
    assert food.deadline == utc(2027, 4, 30, 5)
    assert (food.amount_max, food.currency) == (150_000, "USD")
    assert food.eligible_countries == ["CO", "MX", "BR", "PE", "CL"]
    eu = rows["fundsforngos:241101"]
    assert (eu.amount_min, eu.amount_max, eu.currency) == (500_000, 1_500_000, "EUR")
    assert "appeared first on" not in (eu.description or "")
    assert rows["fundsforngos:241033"].eligible_countries == ["*"]  # "all countries of Latin America…"
    run = runs(sqlite_url)["fundsforngos"]
    assert run.items_seen == 9 and run.healthy


def test_aci_medellin_keeps_calls_not_news(sqlite_url):
    rows = crawl("aci_medellin", sqlite_url)
    assert set(rows) == {"aci_medellin:18830", "aci_medellin:18822", "aci_medellin:18790", "aci_medellin:18777"}
    fund = rows["aci_medellin:18830"]
    assert fund.deadline == utc(2027, 3, 12, 22)  # "12 de marzo de 2027 a las 5:00 p.m."
    assert (fund.amount_max, fund.currency) == (60_000, "EUR")
    assert fund.eligible_countries == ["CO", "ES"] and fund.language == "es"
    assert rows["aci_medellin:18777"].deadline == utc(2027, 4, 15, 5)  # "cierran el 15 de abril de 2027"


def test_minciencias_every_page_and_every_closing_row(sqlite_url):
    rows = crawl("minciencias", sqlite_url)
    assert len(rows) == 8
    young = rows["minciencias:1011"]
    assert [d[:16] for d in young.deadlines] == ["2027-02-16T22:00", "2027-05-20T22:00"]  # two "Cierre" rows
    resilience = rows["minciencias:1012"]
    assert resilience.deadline == utc(2027, 3, 26, 21)  # "viernes 26 marzo 2027 04:00 pm"
    assert (resilience.amount_max, resilience.currency) == (48_000_000_000, "COP")
    assert resilience.opens_at == utc(2026, 11, 9, 5)
    assert rows["minciencias:1008"].status == "closed" and rows["minciencias:1008"].amount_max is None  # "$0"
    assert rows["minciencias:1006"].url == ("https://minciencias.gov.co/convocatorias/innovacion/"
                                             "transferencia-de-conocimiento-para-la-movilidad-electrica-urbana")


def test_apccolombia_both_listings_and_node_pages(sqlite_url):
    rows = crawl("apccolombia", sqlite_url)
    assert len(rows) == 8  # 5 calls on two pages, 3 cooperation opportunities
    korea = rows["apccolombia:node-9841"]
    assert korea.funder == "Agencia de Cooperación Internacional de Corea (KOICA)"
    assert korea.cooperation_type == "technical" and korea.eligible_countries == ["CO"]
    assert korea.deadline == utc(2027, 3, 6, 4, 59)
    assert (korea.amount_max, korea.currency) == (3_000_000, "USD")
    assert rows["apccolombia:node-9830"].cooperation_type == "scholarship_exchange"
    assert rows["apccolombia:node-9822"].amount_min == 400_000


def test_undp_colombia_notices_in_new_york_time(sqlite_url):
    rows = crawl("undp", sqlite_url)
    assert len(rows) == 5 and "undp:98276" not in rows  # Peru's office is not ours
    sgp = rows["undp:98312"]
    assert sgp.deadline == utc(2027, 3, 13, 4, 59)  # "12-Mar-27 @ 11:59 PM (New York time)"
    assert sgp.cooperation_type == "financial_non_reimbursable" and (sgp.amount_max, sgp.currency) == (50_000, "USD")
    assert rows["undp:98290"].cooperation_type == "procurement"


def test_page_watch_every_configured_source(sqlite_url):
    rows = crawl("page_watch", sqlite_url)
    by_source: dict[str, int] = {}
    for o in rows.values():
        by_source[o.source] = by_source.get(o.source, 0) + 1
    assert by_source == {"idb_lab": 3, "caf": 2, "gcf": 3, "gef_sgp": 1, "aecid": 2, "giz": 2, "koica": 2, "jica": 2,
                         "fondo_colombia_sostenible": 2, "c40": 2, "iclei": 1, "un_habitat": 2, "bloomberg": 2,
                         "gobernacion_antioquia": 3}
    all_runs = runs(sqlite_url)
    assert len(all_runs) == 14 and all(r.healthy for r in all_runs.values())
    # CSS selectors, two listing pages
    assert rows["idb_lab:/es/convocatorias/agtech-pequenos-productores-andinos"].deadline == utc(2027, 1, 21, 4, 59)
    # XPath selectors, deadline in the entry's time zone (KST)
    gcf = rows["gcf:/document/rfp-2026-11-urban-climate-resilience-latam"]
    assert gcf.deadline == utc(2027, 1, 20, 14, 59) and gcf.cooperation_type == "procurement"
    # detail pages
    caf = rows["caf:/es/convocatorias/convocatoria-ciudades-con-futuro-movilidad-sostenible-2027"]
    assert (caf.amount_max, caf.currency) == (250_000, "USD")
    # generic extractor: calls found, menus and news ignored
    aecid = {k for k in rows if k.startswith("aecid:")}
    assert aecid == {"aecid:/convocatorias/subvenciones-proyectos-cooperacion-para-el-desarrollo-2027",
                     "aecid:/convocatorias/becas-master-cultura-2027"}
    giz = rows["giz:/en/worldwide/colombia-call-urban-green-infrastructure-2027.html"]
    assert giz.deadline == utc(2027, 2, 27, 23) and (giz.amount_max, giz.currency) == (200_000, "EUR")


# ------------------------------------------------------------------ malformed responses

MALFORMED_CASES = {
    # source: (items kept, the error logged)
    "grants_gov": (5, "not_an_opportunity"),
    "worldbank": (4, "invalid_json"),
    "secop": (5, "not_a_record_list"),
    "aci_medellin": (2, "not_an_rss_feed"),
    "minciencias": (8, "no_call_body"),
    "apccolombia": (8, "no_node_body"),
    "undp": (5, "no_notice_fields"),
}


@pytest.mark.parametrize("source", sorted(MALFORMED_CASES))
def test_a_malformed_response_is_skipped_and_the_rest_goes_on(source, sqlite_url, tmp_path):
    kept, reason = MALFORMED_CASES[source]
    proc = run_spider(source, [with_malformed(source, tmp_path)], sqlite_url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert reason in proc.stderr
    run = runs(sqlite_url)[source]
    assert run.status == "ok" and run.errors >= 1
    assert run.items_new == kept and run.items_dropped == 0


def test_truncated_feed_keeps_its_complete_posts(sqlite_url, tmp_path):
    proc = run_spider("fundsforngos", [with_malformed("fundsforngos", tmp_path)], sqlite_url)
    assert proc.returncode == 0 and "truncated_feed" in proc.stderr
    run = runs(sqlite_url)["fundsforngos"]
    # The post cut inside its title has no link: dropped with its reason; the others are kept.
    assert (run.items_new, run.items_dropped, run.errors) == (8, 1, 1)
    assert run.dropped_by_reason == {"missing_link": 1} and run.healthy


def test_call_page_without_body_keeps_the_listing_row(sqlite_url, tmp_path):
    rows = crawl("minciencias", sqlite_url, with_malformed("minciencias", tmp_path))
    water = rows["minciencias:1010"]
    assert water.deadline is None and water.amount_max == 12_500_000_000  # unknown, not guessed


def test_worldbank_older_shape_keyed_by_notice_id(sqlite_url, tmp_path):
    rows = crawl("worldbank", sqlite_url, with_malformed("worldbank", tmp_path))
    assert "worldbank:OP00412871" in rows and rows["worldbank:OP00412871"].deadline == utc(2027, 1, 29, 22)


def test_a_redesigned_watched_page_makes_only_its_source_unhealthy(sqlite_url, tmp_path):
    proc = run_spider("page_watch", [with_malformed("page_watch", tmp_path)], sqlite_url)
    assert proc.returncode == 0 and "no_calls_found" in proc.stderr
    all_runs = runs(sqlite_url)
    assert not all_runs["giz"].healthy and all_runs["giz"].items_seen == 0 and all_runs["giz"].errors == 1
    assert all_runs["giz"].message == "ninguna convocatoria en esta ejecución"
    assert all(r.healthy for slug, r in all_runs.items() if slug != "giz")
