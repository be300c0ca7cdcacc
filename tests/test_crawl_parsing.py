"""Parsing helpers added for the first-wave sources, retry backoff, the replay server's matching."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawlers.extensions import health
from crawlers.middlewares import backoff_delay
from crawlers.parsing.countries import eligible_countries_from_text, find_countries
from crawlers.parsing.dates import find_deadlines
from crawlers.parsing.language import detect_language
from crawlers.parsing.money import amount_sentences, parse_amount, parse_amounts
from crawlers.replay import ReplayServer, discover_recordings
from tests.crawl_helpers import write_manifest


@pytest.mark.parametrize("text,expected", [
    ("Deadline: 26-Feb-2027", datetime(2027, 2, 26, 5, tzinfo=UTC)),
    ("Applications close on 14 March 2027 at 17:00 CET.", datetime(2027, 3, 14, 16, tzinfo=UTC)),
    ("Fecha de cierre: 20 de marzo de 2027 a las 5:00 p.m.", datetime(2027, 3, 20, 22, tzinfo=UTC)),
    ("Deadline: March 5, 2027 11:59 PM EST", datetime(2027, 3, 6, 4, 59, tzinfo=UTC)),
    ("Las inscripciones cierran el 15 de abril de 2027.", datetime(2027, 4, 15, 5, tzinfo=UTC)),
    ("Cierre: 15/04/2027", datetime(2027, 4, 15, 5, tzinfo=UTC)),
])
def test_deadlines_in_running_text(text, expected):
    assert [d.astimezone(UTC) for d in find_deadlines(text)] == [expected]


def test_no_deadline_cue_no_deadline():
    assert find_deadlines("Publicado el 3 de noviembre de 2026.") == []


def test_countries_from_names_in_spanish_and_english():
    assert find_countries("Proyectos en Colombia, Perú y Brasil") == ["CO", "PE", "BR"]
    assert eligible_countries_from_text("Eligible Countries: Colombia, Ecuador and Peru. Funded by Germany.") == ["CO", "EC", "PE"]
    assert "CO" in eligible_countries_from_text("Geographic focus: Latin America")
    assert eligible_countries_from_text("Open to organisations from all countries.") == ["*"]
    assert eligible_countries_from_text("A call about rivers.") is None


def test_amounts_in_running_text_need_a_currency():
    text = "Plazo: hasta el 18 de marzo de 2027. Importe máximo: 500.000 euros por proyecto."
    phrases = amount_sentences(text)
    assert phrases is not None
    assert parse_amounts(phrases, "EUR", require_marker=True) == [parse_amount("500.000 euros")]
    assert parse_amount("$ 35.000.000", "COP").amount == 35_000_000  # price-parser's job
    assert parse_amount("US$ 50,000").currency == "USD"


def test_language_is_one_of_four_or_unknown():
    assert detect_language("La convocatoria apoya a los municipios en la gestión del riesgo.") == "es"
    assert detect_language("O edital apoia os municípios na gestão de riscos e na adaptação.") == "pt"
    assert detect_language("Hola") is None


def test_backoff_doubles_and_honours_retry_after():
    assert [backoff_delay(n, 2.0, 60.0) for n in (1, 2, 3, 6)] == [2.0, 4.0, 8.0, 60.0]
    assert backoff_delay(1, 2.0, 60.0, "30") == 30.0
    assert backoff_delay(1, 2.0, 60.0, "Wed, 21 Oct 2026 07:28:00 GMT") == 2.0


def test_health_rule():
    assert health(0, 0) == (False, "ninguna convocatoria en esta ejecución")
    assert health(10, 2) == (True, None)
    assert health(10, 3)[0] is False  # more than 20 % dropped


def test_replay_prefers_the_most_specific_recording(tmp_path: Path):
    (tmp_path / "p1.xml").write_text("page one", encoding="utf-8")
    (tmp_path / "p2.xml").write_text("page two", encoding="utf-8")
    write_manifest(tmp_path, "demo", [
        {"request": {"method": "GET", "url": "https://example.org/feed/"}, "response": {"file": "p1.xml", "content_type": "text/xml"}},
        {"request": {"method": "GET", "url": "https://example.org/feed/", "query": {"paged": "2"}},
         "response": {"file": "p2.xml", "content_type": "text/xml"}},
    ])
    with ReplayServer(discover_recordings(tmp_path)) as server:
        def get(path: str) -> bytes:
            with urllib.request.urlopen(f"{server.url}/https/example.org{path}", timeout=10) as answer:
                return answer.read()
        assert get("/feed/") == b"page one"
        assert get("/feed/?paged=2") == b"page two"
