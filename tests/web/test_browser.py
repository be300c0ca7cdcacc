"""End to end in a real browser: Debian's Chromium driven by Playwright against `convoca serve`.

The journey runs with JavaScript switched off (the pages must work without it); the XSS check
runs with JavaScript on, so a payload that slipped through would really execute.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import copy_database
from tests.web.seed import XSS_MARK, Seeded, match_ids

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def server(seeded_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    """`convoca serve` on a free port, over its own copy of the seeded database."""
    url = copy_database(seeded_file, tmp_path_factory.mktemp("browser") / "web.db")
    env = {**os.environ, "CONVOCA_DATABASE_URL": url, "CONVOCA_SECRET_KEY": "clave-del-navegador-de-pruebas"}
    convoca = shutil.which("convoca", path=str(Path(sys.executable).parent)) or "convoca"
    proc = subprocess.Popen([convoca, "serve", "--host", "127.0.0.1", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not found:
        proc.kill()
        pytest.fail(f"convoca serve did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    try:
        yield found.group(0).rstrip("/"), Seeded(url)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/ingresar")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()


def test_formulator_journey_without_javascript(server, browser, tmp_path: Path):
    base, seeded = server
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(java_script_enabled=False, accept_downloads=True, locale="es-CO",
                                  viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{base}/m/medellin/coincidencias")
        assert page.url.startswith(f"{base}/ingresar")  # signed out: sent to sign in
        page.get_by_label("Usuario").fill(seeded.medellin_user)
        page.get_by_label("Contraseña").fill(seeded.password)
        page.get_by_role("button", name="Ingresar").click()
        assert page.url == f"{base}/m/medellin/coincidencias"
        assert page.get_by_role("heading", level=1).inner_text() == "Coincidencias de Medellín"
        all_rows = page.locator("table.matches tbody tr").count()
        assert all_rows >= 4
        page.screenshot(path=str(ARTIFACTS / "web-list.png"), full_page=True)

        # Filter: technical cooperation only.
        page.get_by_label("Tipo de cooperación").select_option("technical")
        page.get_by_role("button", name="Aplicar filtros").click()
        assert "tipo=technical" in page.url
        types = page.locator("table.matches tbody td:nth-child(3)").all_inner_texts()
        assert 0 < len(types) < all_rows and all(t.startswith("Cooperación técnica") for t in types)

        # Export the filtered list and read it back.
        with page.expect_download() as info:
            page.get_by_role("link", name="CSV").click()
        download = info.value
        assert re.fullmatch(r"convoca-medellin-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
        target = tmp_path / download.suggested_filename
        download.save_as(target)
        exported = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
        listed = page.locator("a.match-title").all_inner_texts()
        assert [r["Convocatoria"] for r in exported] == [t.strip() for t in listed]
        assert {r["Tipo de cooperación"] for r in exported} == {"Cooperación técnica"}

        # Open a detail page.
        first_title = listed[0].strip()
        page.locator("a.match-title").first.click()
        assert page.get_by_role("heading", level=1).inner_text() == first_title
        assert page.get_by_role("heading", name=re.compile("Por qué encaja")).is_visible()
        assert page.locator("section[aria-labelledby=por-que] table").first.locator("tbody tr").count() == 7
        page.screenshot(path=str(ARTIFACTS / "web-detail.png"), full_page=True)

        # Feedback: relevant, shown at once on the page and in the list.
        page.locator("section[aria-labelledby=calificar]").get_by_role("button", name="Relevante", exact=True).click()
        assert page.get_by_role("status").first.inner_text() == "Calificación guardada: Relevante."
        assert "Revisada" in page.locator(".detail__meta").inner_text()
        assert seeded.medellin_user in page.locator(".feedback-log").inner_text()
        page.get_by_role("link", name=re.compile("Volver a las coincidencias")).click()
        row = page.locator("table.matches tbody tr", has=page.locator("a.match-title", has_text=first_title))
        assert row.locator("span.badge").last.inner_text() == "Revisada"

        # Not relevant, with its reason, from the list: the row leaves the active list.
        second = page.locator("table.matches tbody tr").nth(1)
        second_title = second.locator("a.match-title").inner_text().strip()
        second.locator("summary").click()
        second.get_by_label("Razón, si no es relevante").select_option("no_capacity")
        second.get_by_role("button", name="No relevante").click()
        assert "tipo=technical" in page.url
        assert second_title not in page.locator("table.matches").inner_text()

        # Sign out: protected pages send back to sign-in.
        page.get_by_role("button", name="Cerrar sesión").click()
        assert page.url == f"{base}/ingresar" and "Sesión cerrada" in page.content()
        page.goto(f"{base}/m/medellin/coincidencias")
        assert page.url.startswith(f"{base}/ingresar")
    finally:
        context.close()


def test_a_scripted_payload_in_a_scraped_title_never_executes(server, browser):
    base, seeded = server
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        _sign_in(page, base, seeded.medellin_user, seeded.password)
        match_id = match_ids(seeded.database_url, "medellin", title_contains=XSS_MARK)[0]
        for path in ("/m/medellin/coincidencias", f"/m/medellin/coincidencias/{match_id}"):
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.dataset.xss") is None, path
            assert page.locator("script").count() == 0
            assert page.locator("img").count() == 0
            assert page.get_by_text('<script>document.documentElement.dataset.xss="script"</script>').count() >= 1
        assert dialogs == []
    finally:
        context.close()


def test_a_formulator_cannot_reach_another_municipality(server, browser):
    base, seeded = server
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        _sign_in(page, base, seeded.envigado_user, seeded.password)
        assert page.url == f"{base}/m/envigado/coincidencias"
        medellin_match = match_ids(seeded.database_url, "medellin")[0]
        for path in ("/m/medellin/coincidencias", f"/m/medellin/coincidencias/{medellin_match}",
                     "/m/medellin/coincidencias.csv", "/amva"):
            response = page.goto(base + path)
            assert response is not None and response.status == 403, path
            assert page.get_by_role("heading", level=1).inner_text() == "Acceso no permitido"
        response = page.goto(f"{base}/m/envigado/coincidencias/{medellin_match}")
        assert response is not None and response.status == 404
    finally:
        context.close()


def test_form_controls_are_labelled(server, browser):
    """Every visible input and select has an accessible name (checked by the browser's own tree)."""
    base, seeded = server
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    try:
        _sign_in(page, base, seeded.amva_user, seeded.password)
        for path in ("/amva", "/m/medellin/coincidencias", "/m/amva/coincidencias"):
            page.goto(base + path)
            unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                .map(el => el.name)""")
            assert unlabeled == [], (path, unlabeled)
            assert page.evaluate("document.documentElement.lang") == "es-CO"
    finally:
        context.close()
