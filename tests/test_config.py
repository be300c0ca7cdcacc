"""Shipped configs load; broken ones are reported with file, line, field and fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from config.loader import check_files, load_municipalities
from convoca.settings import DEFAULT_CONFIG_DIR
from tests.conftest import FIXTURES, REPO

MUNICIPALITIES = DEFAULT_CONFIG_DIR / "municipalities"
BROKEN = FIXTURES / "config" / "broken.yaml"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "convoca", *args], capture_output=True, text=True, cwd=REPO)


def test_every_shipped_config_is_valid():
    loaded, issues = load_municipalities(MUNICIPALITIES)
    assert issues == []
    slugs = {m.slug for m in loaded}
    assert slugs == {"amva", "medellin", "barbosa", "bello", "caldas", "copacabana", "envigado",
                     "girardota", "itagui", "la-estrella", "sabaneta"}
    for m in loaded:
        assert 4 <= len(m.config.profiles) <= 6, m.slug
        assert all(r.email.endswith("example.gov.co") for r in m.config.recipients)
    assert sum(m.config.is_metropolitan for m in loaded) == 1


def test_broken_config_lists_every_error_with_line_and_field():
    issues = check_files([BROKEN])
    lines = [str(i) for i in issues]
    by_field = {i.field: i for i in issues}
    assert by_field["dane_code"].line == 3 and "quoted" in by_field["dane_code"].message
    assert by_field["recipients[0].email"].line == 5
    assert by_field["digest.weekday"].line == 6 and "monday" in by_field["digest.weekday"].message
    assert by_field["digest.hour"].line == 6
    assert by_field["defaults.colour"].line == 7 and "unknown key" in by_field["defaults.colour"].message
    assert "min_lead_days" in by_field["defaults.colour"].message  # the fix lists the allowed keys
    assert by_field["profiles[0].id"].line == 9
    assert by_field["profiles[0].sdg_targets"].line == 13
    assert by_field["profiles[0].budget.currency"].line == 15
    assert by_field["profiles[0].cooperation_types[0]"].line == 16
    assert by_field["profiles[1].description"].message.startswith("required field is missing")
    assert all(line.startswith(f"{BROKEN}:") for line in lines)


def test_cli_config_check_exit_codes():
    bad = run_cli("config", "check", str(BROKEN))
    assert bad.returncode == 2
    out_lines = [l for l in bad.stdout.splitlines() if l]
    assert len(out_lines) >= 10
    for line in out_lines:
        file, lineno, field, message = line.split(":", 3)
        assert file == str(BROKEN) and lineno.isdigit() and field.strip() and message.strip()
    good = run_cli("config", "check", str(MUNICIPALITIES / "envigado.yaml"))
    assert good.returncode == 0, good.stdout + good.stderr
    everything = run_cli("config", "check")
    assert everything.returncode == 0, everything.stdout + everything.stderr


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path):
    for f in MUNICIPALITIES.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    shutil.copy(BROKEN, tmp_path / "prueba.yaml")
    (tmp_path / "roto.yaml").write_text("municipality: [sin cerrar\n", encoding="utf-8")
    loaded, issues = load_municipalities(tmp_path)
    assert len(loaded) == 11
    files = {Path(i.file).name for i in issues}
    assert files == {"prueba.yaml", "roto.yaml"}
    yaml_issue = next(i for i in issues if i.file.endswith("roto.yaml"))
    assert yaml_issue.field == "(yaml)" and yaml_issue.line is not None


def test_duplicate_keys_and_unknown_sdg_targets_are_reported(tmp_path: Path):
    text = (MUNICIPALITIES / "envigado.yaml").read_text(encoding="utf-8")
    text = text.replace('sdg_targets: ["', 'sdg_targets: ["16.11", "', 1)
    path = tmp_path / "envigado.yaml"
    path.write_text(text.replace("municipality: Envigado", "municipality: Envigado\nmunicipality: Envigado", 1),
                    encoding="utf-8")
    assert any("appears twice" in str(i) for i in check_files([path]))
    path.write_text(text, encoding="utf-8")
    messages = [str(i) for i in check_files([path])]
    assert any("16.11" in m and "169 SDG targets" in m for m in messages)
