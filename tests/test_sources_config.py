"""config/sources.yaml: shipped entries, validation messages, a source added by YAML alone, and
the `convoca crawl` / `convoca sources` commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from config.loader import check_files
from config.sources_schema import SourcesConfig
from convoca.settings import DEFAULT_CONFIG_DIR, Settings
from crawlers.platforms.page_watch import load_sources
from crawlers.service import available_sources
from tests.conftest import FIXTURES, REPO
from tests.crawl_helpers import run_spider, write_manifest

SOURCES = DEFAULT_CONFIG_DIR / "sources.yaml"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "convoca", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "COLUMNS": "250", **env}, timeout=600)


def test_shipped_sources_file_is_valid_and_watches_at_least_eight_funders():
    config = load_sources(SOURCES)
    slugs = {e.slug for e in config.enabled()}
    assert len(slugs) >= 8
    assert {"idb_lab", "caf", "gcf", "gef_sgp", "aecid", "giz", "koica", "jica", "fondo_colombia_sostenible", "c40",
            "iclei", "un_habitat", "bloomberg", "gobernacion_antioquia"} <= slugs
    assert any(e.selectors is None for e in config.page_watch)  # the generic extractor is used
    assert any(e.selectors and e.selectors.item.startswith("//") for e in config.page_watch)  # and XPath


def test_every_source_is_listed_with_page_watch_entries_as_their_own_sources():
    specs = {s.slug: s.spider for s in available_sources(Settings(_env_file=None))}  # type: ignore[call-arg]
    assert {"eu_sedia", "grants_gov", "worldbank", "secop", "fundsforngos", "aci_medellin", "minciencias",
            "apccolombia", "undp"} <= set(specs)
    assert specs["idb_lab"] == "page_watch" and "page_watch" not in specs


def test_broken_sources_file_reports_line_field_and_fix(tmp_path: Path):
    broken = tmp_path / "sources.yaml"  # the file's name decides its schema
    broken.write_text((FIXTURES / "config" / "sources_broken.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    issues = check_files([broken])
    text = "\n".join(str(i) for i in issues)
    assert any(i.field == "page_watch[0].url" and i.line == 5 for i in issues), text
    assert any(i.field == "page_watch[0].selectors.item" and "not a valid CSS selector" in i.message for i in issues), text
    assert any(i.field == "page_watch[1].cooperation_typ" and "unknown key" in i.message for i in issues), text


def test_config_check_covers_sources_yaml(tmp_path: Path):
    config_dir = tmp_path / "config"
    (config_dir / "municipalities").mkdir(parents=True)
    (config_dir / "sources.yaml").write_text((FIXTURES / "config" / "sources_broken.yaml").read_text(), encoding="utf-8")
    proc = cli("config", "check", env={"CONVOCA_CONFIG_DIR": str(config_dir)})
    assert proc.returncode == 2
    assert "sources.yaml:5: page_watch[0].url" in proc.stdout


def test_an_operator_adds_a_source_by_editing_yaml_only(sqlite_url, tmp_path: Path):
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"page_watch": [{
        "slug": "fondo_acme", "name": "Fondo ACME – convocatorias", "funder": "Fundación ACME",
        "url": "https://acme.example.org/convocatorias", "currency": "USD",
        "selectors": {"item": "li.call", "title": "a", "link": "a::attr(href)", "deadline": ".cierre"}}]},
        allow_unicode=True), encoding="utf-8")
    site = tmp_path / "recording"
    site.mkdir()
    (site / "list.html").write_text("""<html><body><ul>
<li class="call"><a href="/c/agua-2027">Fondo ACME para acueductos veredales 2027</a> <span class="cierre">30/03/2027</span>
 Aportes de hasta USD 40.000.</li>
<li class="call"><a href="/c/huertas">Huertas urbanas comunitarias</a> <span class="cierre">15/02/2027</span></li>
</ul></body></html>""", encoding="utf-8")
    write_manifest(site, "page_watch", [{"request": {"method": "GET", "url": "https://acme.example.org/convocatorias"},
                                         "response": {"status": 200, "content_type": "text/html", "file": "list.html"}}])
    proc = run_spider("page_watch", [site], sqlite_url, args={"sources_file": str(sources)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    from sqlalchemy import select

    from models import Opportunity
    from models.db import session_factory
    with session_factory(sqlite_url)() as s:
        rows = {o.source_id: o for o in s.scalars(select(Opportunity).where(Opportunity.source == "fondo_acme"))}
    assert set(rows) == {"/c/agua-2027", "/c/huertas"}
    water = rows["/c/agua-2027"]
    assert water.url == "https://acme.example.org/c/agua-2027" and water.funder == "Fundación ACME"
    assert water.deadline.date().isoformat() == "2027-03-30" and (water.amount_max, water.currency) == (40_000, "USD")
    assert SourcesConfig.model_validate(yaml.safe_load(sources.read_text())).page_watch[0].slug == "fondo_acme"


def test_crawl_and_health_commands(tmp_path: Path, sqlite_url):
    env = {"CONVOCA_DATABASE_URL": sqlite_url, "CONVOCA_DOWNLOAD_DELAY": "0", "CONVOCA_RETRY_BACKOFF": "0.05"}
    proc = cli("crawl", "--replay", "secop", "giz", "c40", env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "secop: 9 vistas, 9 nuevas" in proc.stdout and "giz: 2 vistas" in proc.stdout
    table = cli("sources", env=env)
    assert table.returncode == 0
    lines = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if line.count("│") > 5}
    assert {"secop", "giz", "c40"} <= set(lines)
    assert "sana" in lines["secop"] and "con problemas" not in lines["secop"]
    unknown = cli("crawl", "--replay", "no_such_source", env=env)
    assert unknown.returncode == 1 and "no_such_source" in unknown.stderr
