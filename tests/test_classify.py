"""The classify stage reads instrument, applicants, countries and closing dates from call text."""

from __future__ import annotations

from datetime import UTC, datetime

from crawlers.classify import (
    classify,
    classify_applicants,
    classify_cooperation,
    classify_countries,
    closing_dates,
)
from crawlers.items import CallItem
from crawlers.pipelines import normalise_call

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def _call(title: str, description: str, **kw) -> object:
    item = CallItem(source="t", source_id="1", url="https://example.org/1", title=title, description=description, **kw)
    return classify(normalise_call(item, fx_path=None, now=NOW), now=NOW)


def test_research_only_and_non_funded_partners():
    text = ("Lead applicants must be universities or public research institutes; municipalities may only provide "
            "data as non-funded partners. Grants of up to EUR 400,000.")
    assert classify_applicants(text) == ["academia"]
    es = ("Solo pueden presentarse universidades y centros de investigación reconocidos; las entidades públicas "
          "pueden participar como aliadas sin recibir recursos.")
    assert classify_applicants(es) == ["academia"]


def test_only_exclusions_stated_admit_everyone_else():
    text = "Applications are welcome from all regions. Local authorities and UN agencies are not eligible to apply."
    admitted = classify_applicants(text)
    assert admitted is not None and "local_government" not in admitted and "ngo" in admitted


def test_countries_from_eligibility_sentences():
    assert classify_countries("Breathe Better Cities", "Only city governments in Nigeria, Ghana and Kenya are "
                              "eligible for this cohort.") == ["GH", "KE", "NG"]
    assert "CO" in classify_countries("Ciudades que caminan", "La convocatoria está dirigida a gobiernos municipales "
                                      "de América Latina.")
    assert classify_countries("Open call", "Municipal governments from any country could apply.") == ["*"]
    assert classify_countries("Edital", "Podem participar municípios brasileiros.") == ["BR"]
    # Where experts come from or training happens says nothing about who may apply.
    assert "CO" in classify_countries("JICA technical cooperation", "JICA offers technical cooperation to local "
                                      "health authorities in Colombia. Support includes training in Japan.")
    assert classify_countries("Water", "The programme improves drinking water.") is None


def test_closing_dates_in_four_languages():
    assert closing_dates("The call closed on 15 November 2026 and results follow.")[0].date().isoformat() == "2026-11-15"
    assert closing_dates("enviarse a más tardar el 12 de diciembre de 2026")[0].day == 12
    assert closing_dates("Requests must be submitted before 30 November 2026.")[0].day == 30
    assert closing_dates("Sin fecha de cierre.") == []


def test_instrument_counts_and_non_reimbursable_is_not_a_loan():
    assert classify_cooperation("up to EUR 150,000 in non-reimbursable funding plus advisory support") \
        == "financial_non_reimbursable"
    assert classify_cooperation("Loans range from USD 20 to 150 million; borrowers must show fiscal capacity.") \
        == "financial_reimbursable"
    assert classify_cooperation("grants and internships", title="Grants for youth studios") == "financial_non_reimbursable"


def test_classify_sets_deadline_status_and_signals():
    call = _call("Urban Rivers Challenge 2026", "Municipal governments from any country could apply for grants. "
                 "The call closed on 15 November 2026.")
    assert call.status == "closed" and call.deadline.date().isoformat() == "2026-11-15"
    assert call.eligible_countries == ["*"] and call.cooperation_type == "financial_non_reimbursable"
    research = _call("Micromobility research grants", "Only accredited universities may act as principal applicant; "
                     "city agencies cannot receive funds. Full proposals are due 12 March 2027.")
    assert research.raw["_signals"]["research_only"] is True
    assert research.deadline is not None and research.status is None


def test_structured_fields_win_over_text():
    call = _call("Fund", "Only NGOs in Kenya may apply.", eligible_countries=["CO"], eligible_applicants=["local_government"],
                 cooperation_type="technical")
    assert call.eligible_countries == ["CO"] and call.eligible_applicants == ["local_government"]
    assert call.cooperation_type == "technical"
