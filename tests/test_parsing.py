"""Pure parsing helpers: dates, money, HTML, language, classification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.classify import classify_applicants, classify_cooperation
from crawlers.parsing.dates import parse_datetime
from crawlers.parsing.html import html_to_text
from crawlers.parsing.language import detect_language
from crawlers.parsing.money import parse_amounts


@pytest.mark.parametrize("text,expected", [
    ("2027-04-08T00:00:00.000+0000", datetime(2027, 4, 8, tzinfo=UTC)),
    ("2027-02-26T16:00:00.000+0100", datetime(2027, 2, 26, 15, tzinfo=UTC)),
    ("viernes 20 febrero 2015 04:00 pm", datetime(2015, 2, 20, 21, tzinfo=UTC)),
    ("14 March 2027", datetime(2027, 3, 14, 5, tzinfo=UTC)),
    ("15 de marzo de 2027", datetime(2027, 3, 15, 5, tzinfo=UTC)),
    ("03/04/2027", datetime(2027, 4, 3, 5, tzinfo=UTC)),
])
def test_dates_in_spanish_and_english(text, expected):
    parsed = parse_datetime(text)
    assert parsed is not None and parsed.tzinfo is not None
    assert parsed.astimezone(UTC) == expected


def test_no_date_is_none():
    assert parse_datetime("por definir") is None
    assert parse_datetime("") is None


@pytest.mark.parametrize("text,amount,currency", [
    ("Grants of EUR 500 000 to EUR 1 500 000", 500000, "EUR"),
    ("Cuantía: $749.982.430.291", 749982430291, "COP"),
    ("up to USD 1.5 million", 1_500_000, "USD"),
    ("hasta 200 millones de pesos", 200_000_000, "COP"),
    ("€2,000,000 available", 2_000_000, "EUR"),
])
def test_amounts(text, amount, currency):
    found = parse_amounts(text, "COP" if "$7" in text else None)
    assert found and found[0].amount == pytest.approx(amount) and found[0].currency == currency


def test_html_to_text_drops_markup_and_scripts():
    text = html_to_text('<p>Hola <b>mundo</b></p><script>alert(1)</script><p>Segundo &amp; final</p>')
    assert text == "Hola mundo\nSegundo & final"


@pytest.mark.parametrize("text,lang", [
    ("La convocatoria busca fortalecer a los municipios en la gestión del riesgo de desastres.", "es"),
    ("The call supports local authorities in the management of disaster risk and climate adaptation.", "en"),
    ("L'appel soutient les collectivités dans la gestion des risques et pour les projets.", "fr"),
    ("O edital apoia os municípios na gestão de riscos e na adaptação para os projetos.", "pt"),
])
def test_language(text, lang):
    assert detect_language(text) == lang


def test_cooperation_type_from_text():
    assert classify_cooperation("Concessional loan for urban transport") == "financial_reimbursable"
    assert classify_cooperation("Becas para maestrías en el exterior") == "scholarship_exchange"
    assert classify_cooperation("Call for proposals for local authorities") == "financial_non_reimbursable"
    assert classify_cooperation("Nothing stated here") is None
    assert classify_cooperation("anything", "award_contest") == "award_contest"


def test_applicants_respect_negation():
    text = ("Lead applicant: a Colombian local authority or a non-profit civil society organisation. "
            "Individuals and private companies are not eligible.")
    assert classify_applicants(text) == ["local_government", "ngo"]
    assert classify_applicants(None) is None
