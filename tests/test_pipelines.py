"""The pipeline stages one by one: normalise, validate (named reasons), and the helpers they use."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from convoca.settings import DEFAULT_CONFIG_DIR
from crawlers.items import CallItem
from crawlers.pipelines import normalise_call, validation_problem

FX = DEFAULT_CONFIG_DIR / "fx_rates.yaml"
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def item(**over) -> CallItem:
    base = dict(source="test", source_id="1", url="https://example.org/call/1",
                title="Convocatoria de movilidad sostenible para municipios del Valle de Aburrá")
    base.update(over)
    return CallItem(**base)


def test_every_deadline_is_kept_and_the_next_one_is_the_deadline():
    opp = normalise_call(item(deadlines=["2027-02-17T17:00:00.000+0100", "8 de septiembre de 2027", "2026-06-01"]),
                         fx_path=FX, now=NOW)
    assert [d.date() for d in opp.deadlines] == [date(2026, 6, 1), date(2027, 2, 17), date(2027, 9, 8)]
    assert opp.deadline == datetime(2027, 2, 17, 16, tzinfo=UTC)
    assert opp.status == "open"


def test_a_call_past_its_last_deadline_is_closed_even_if_the_source_says_open():
    opp = normalise_call(item(status="open", deadlines=["2026-10-01"]), fx_path=FX, now=NOW)
    assert opp.status == "closed" and opp.deadline.date() == date(2026, 10, 1)


@freeze_time("2027-03-01 12:00:00")
def test_status_follows_the_clock_when_time_is_frozen():
    opp = normalise_call(item(deadlines=["2027-02-17", "2027-09-08"]), fx_path=FX)
    assert opp.status == "open" and opp.deadline.date() == date(2027, 9, 8)  # the first stage has passed


def test_amounts_currency_and_cop_conversion():
    opp = normalise_call(item(amount_text="Grants between EUR 500,000 and EUR 1,500,000"), fx_path=FX, now=NOW)
    assert (opp.amount_min, opp.amount_max, opp.currency) == (500_000, 1_500_000, "EUR")
    assert opp.amount_cop == 1_500_000 * 4400
    zero = normalise_call(item(amount_max="$0", currency="COP"), fx_path=FX, now=NOW)
    assert (zero.amount_max, zero.currency, zero.amount_cop) == (None, None, None)  # "$0" means not stated
    dates_only = normalise_call(item(amount_text="hasta el 18 de marzo de 2027", currency="EUR"), fx_path=FX, now=NOW)
    assert dates_only.amount_max is None  # a bare number in running text is no amount


def test_html_is_made_safe_text_and_language_detected():
    opp = normalise_call(item(title="<b>Call</b> for proposals on urban resilience",
                              description="<p>The call supports <script>alert(1)</script>local authorities in Colombia "
                                          "with grants for flood risk management.</p>"), fx_path=FX, now=NOW)
    assert opp.title == "Call for proposals on urban resilience"
    assert "<" not in opp.description and "alert" not in opp.description
    assert opp.language == "en"
    assert normalise_call(item(language="es-CO"), fx_path=FX, now=NOW).language == "es"


def test_countries_are_iso_codes_or_star():
    assert normalise_call(item(eligible_countries=["co", "Colombia", "pe"]), fx_path=FX, now=NOW).eligible_countries == ["CO", "PE"]
    assert normalise_call(item(eligible_countries=["CO", "*"]), fx_path=FX, now=NOW).eligible_countries == ["*"]


@pytest.mark.parametrize("over,reason", [
    (dict(url="ftp://example.org/x"), "bad_url"),
    (dict(title="Ok"), "title_too_short"),
    (dict(amount_max=-5, currency="USD"), "negative_amount"),
    (dict(opens_at="2027-05-01", deadlines=["2027-04-01"]), "deadline_before_opening"),
    (dict(deadlines=["2099-01-01"]), "implausible_deadline"),
])
def test_validation_names_its_reason(over, reason):
    opp = normalise_call(item(**over), fx_path=FX, now=NOW)
    problem = validation_problem(opp, today=NOW.date())
    assert problem is not None and problem[0] == reason


def test_a_valid_call_passes_validation():
    assert validation_problem(normalise_call(item(deadlines=["2027-03-01"]), fx_path=FX, now=NOW), today=NOW.date()) is None
