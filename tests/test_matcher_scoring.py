"""Pure scoring, lexical evidence, explanation and metric functions, on hand-made vectors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from matcher.evaluate_ranking import average_precision, ndcg_at, precision_at
from matcher.explain import explain_pair
from matcher.lexical import keyword_evidence
from matcher.rank import score_batch
from matcher.scoring import (
    FAILED,
    PASSED,
    UNKNOWN,
    OpportunitySpec,
    ProfileSpec,
    best_passages,
    combine,
    combine_matrix,
    filter_matrix,
    filter_outcomes,
    opportunity_arrays,
    passes_all,
    rank_order,
    sdg_alignment_matrix,
    urgency_matrix,
    weight_matrix,
)
from matcher.terms import TermMatcher

TODAY = date(2026, 11, 23)


def profile(**kw) -> ProfileSpec:
    base = dict(key=1, municipality="envigado", title="Ciclorrutas", keywords=("ciclorruta", "cycling"),
                exclude=("vehículos de carga",), sdg_targets=("11.2", "3.6"),
                cooperation_types=("financial_non_reimbursable", "technical"), min_lead_days=21)
    base.update(kw)
    return ProfileSpec(**base)


def opp(key: int, **kw) -> OpportunitySpec:
    base = dict(key=key, title="t", text="t", deadline=None, cooperation_type=None, eligible_countries=None,
                eligible_applicants=None, language=None, amount_min_cop=None, amount_max_cop=None)
    base.update(kw)
    return OpportunitySpec(**base)


def at(days: int) -> datetime:
    return datetime(2026, 11, 23, 12, tzinfo=UTC) + timedelta(days=days)


def test_filters_pass_fail_unknown():
    p = profile(budget_min_cop=100.0, budget_max_cop=1000.0)
    opps = [
        opp(1, deadline=at(60), eligible_countries=("*",), eligible_applicants=("local_government",),
            cooperation_type="technical", amount_min_cop=50.0, amount_max_cop=200.0, language="en", status="open"),
        opp(2, deadline=at(10), eligible_countries=("BR",), eligible_applicants=("academia",),
            cooperation_type="financial_reimbursable", amount_min_cop=1.0, amount_max_cop=2.0, language="fr",
            status="closed"),
        opp(3),
        opp(4, eligible_countries=("CO", "PE"), eligible_applicants=("ngo", "consortium")),
    ]
    f = filter_matrix([p], opportunity_arrays(opps, TODAY))
    assert [int(f[name][0, 0]) for name in f] == [PASSED] * 7
    assert [int(f[name][0, 1]) for name in f] == [FAILED] * 7
    assert [int(f[name][0, 2]) for name in f] == [UNKNOWN] * 7  # unknown is a value, and it passes
    assert f["country"][0, 3] == PASSED and f["applicant"][0, 3] == PASSED  # a consortium admits a partner
    assert passes_all(f).tolist() == [[True, False, True, True]]


def test_deadline_respects_each_profiles_lead_time():
    profiles = [profile(min_lead_days=21), profile(key=2, min_lead_days=5)]
    f = filter_matrix(profiles, opportunity_arrays([opp(1, deadline=at(10))], TODAY))
    assert f["deadline"][:, 0].tolist() == [FAILED, PASSED]


def test_filter_outcomes_carry_the_deciding_facts():
    p = profile()
    o = opp(1, deadline=at(10), cooperation_type="technical")
    f = filter_matrix([p], opportunity_arrays([o], TODAY))
    out = {x.name: x for x in filter_outcomes(f, 0, 0, p, o, TODAY)}
    assert out["deadline"].status == "failed" and out["deadline"].detail["days_left"] == 10
    assert out["cooperation_type"].status == "passed"
    assert out["country"].status == "unknown"


def test_best_passage_per_opportunity():
    profiles = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    passages = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, 1.0], [0.8, 0.6]], dtype=np.float32)
    best, arg = best_passages(profiles, passages, np.array([0, 2]))
    assert np.allclose(best, [[1.0, 0.8], [0.8, 1.0]])
    assert arg.tolist() == [[1, 3], [0, 2]]


def test_sdg_alignment_prefers_target_over_goal():
    p = profile(sdg_targets=("11.2",))
    opps = [opp(1, sdg_scores={"11": 0.9, "11.2": 0.8}), opp(2, sdg_scores={"11": 0.9, "11.6": 0.9}),
            opp(3, sdg_scores={"6": 1.0, "6.1": 1.0})]
    a = sdg_alignment_matrix([p], opportunity_arrays(opps, TODAY))[0]
    assert a[0] == pytest.approx(0.8) and a[1] == pytest.approx(0.45) and a[2] == 0.0


def test_urgency_fades_and_unknown_is_neutral():
    u = urgency_matrix([profile(min_lead_days=21)],
                       opportunity_arrays([opp(1, deadline=at(21)), opp(2, deadline=at(201)), opp(3), opp(4, deadline=at(5))],
                                          TODAY))[0]
    assert u[0] == pytest.approx(1.0) and u[1] == pytest.approx(0.0) and u[2] == pytest.approx(0.3) and u[3] == 0.0


def test_combination_weights_exclusion_and_filters():
    features = {name: np.array([[1.0, 1.0, 0.5]], dtype=np.float32) for name in ("semantic", "sdg", "keywords", "urgency")}
    w = weight_matrix([profile(weights={"semantic": 2, "sdg": 1, "keywords": 1, "urgency": 0})])
    assert w.sum() == pytest.approx(1.0) and w[0, 0] == pytest.approx(0.5)
    s = combine_matrix(features, w, excluded=np.array([[False, True, False]]), passed=np.array([[True, True, False]]))
    assert s.tolist() == [[100.0, 50.0, 0.0]]
    assert combine({"semantic": 1.0, "sdg": 1.0, "keywords": 1.0, "urgency": 1.0}, {"semantic": 1.0}) == 100.0


def test_ties_go_to_the_nearer_deadline():
    order = rank_order(np.array([70.0, 80.0, 70.0, 70.0]), np.array([300.0, 500.0, 100.0, np.inf]))
    assert order.tolist() == [1, 2, 0, 3]


def test_keyword_evidence_is_accent_insensitive_and_idf_weighted():
    texts = ["Ciclorrutas seguras y movilidad electrica", "Grants for cycling and walking",
             "Cycling tours for tourists", "Transporte de vehículos de carga y ciclorruta"]
    ev = keyword_evidence([("ciclorruta", "movilidad eléctrica", "cycling")], [("vehículos de carga",)], texts)
    assert ev.matched(0, 0) == (["ciclorruta", "movilidad eléctrica"], [])
    assert ev.excluded[0].tolist() == [False, False, False, True]
    # "movilidad eléctrica" occurs once in the corpus, "cycling" twice: the rarer term weighs more.
    single_rare = keyword_evidence([("movilidad eléctrica", "cycling")], [()], texts).score[0]
    assert single_rare[0] > single_rare[1] > 0


def test_term_matcher_plurals_prefixes_acronyms_and_phrases():
    m = TermMatcher(["farm", "fisher*", "HIV", "drinking water", "qualité de l'air"])
    assert {m.terms[i] for i in m.find("Farms and fisheries; drinking-waters")} == {"farm", "fisher*", "drinking water"}
    assert m.find("hiv lowercase is not the acronym") == set()
    assert {m.terms[i] for i in m.find("La qualite de l’air en ville")} == {"qualité de l'air"}


def test_explanation_is_data_and_adds_up():
    p = profile(keywords=("bike lanes",))
    o = opp(1, title="Bike lanes", text="Bike lanes for cities", deadline=at(60), sdg_scores={"11": 0.8, "11.2": 0.7})
    passages = ["Bike lanes", "Protected bike lanes for cities", "Apply by March"]
    vecs = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    batch = score_batch([p], [o], opportunity_arrays([o], TODAY), np.array([[0.6, 0.8]], dtype=np.float32), vecs,
                        np.array([0]), "use-multilingual")
    e = explain_pair(batch, 0, 0, p, o, passages, TODAY)
    json.dumps(e)  # data, ready for a JSON column
    assert sum(v["points"] for v in e["breakdown"].values()) == pytest.approx(e["score"], abs=0.05)
    assert e["best_passage"] == "Protected bike lanes for cities" and e["passage_similarity"] == pytest.approx(0.96)
    assert [x["text"] for x in e["best_passages"]] == ["Protected bike lanes for cities", "Apply by March"]
    assert e["shared_sdg_targets"] == ["11.2"] and e["matched_keywords"] == ["bike lanes"]
    assert {x["name"]: x["status"] for x in e["filters"]}["deadline"] == "passed"
    assert set(e["unknown_filters"]) == {"status", "country", "applicant", "cooperation_type", "amount", "language"}


def test_ranking_metrics():
    assert ndcg_at([2, 1, 0]) == pytest.approx(1.0)
    assert ndcg_at([0, 1, 2]) < ndcg_at([1, 0, 2]) < 1.0
    assert precision_at([1, 0, 2, 0, 0, 1]) == pytest.approx(0.4)
    assert average_precision([1, 0, 1]) == pytest.approx((1 + 2 / 3) / 2)
    assert ndcg_at([0, 0]) == 0.0
