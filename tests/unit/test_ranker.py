"""The learned sentence ranker: it orders the candidates (the hand-set score stays the confidence),
its training learns from the evidence, and its file is checked like the other models."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from app.compose import FEATURES, Ranker, RankerError, load_ranker, save_ranker, score_units
from eval.train_ranker import fit, in_reply, scores, top1
from index.retrieve import search
from index.store import build_index
from index.lexical import tokenize


@pytest.fixture
def index(small_passages, encoder):
    return build_index(small_passages, encoder)


def _units(index, encoder, question, ranker=None):
    qvec = encoder.encode([question])[0]
    hits = search(index, question, qvec, mode="hybrid", k=4)
    return score_units(index, hits, [qvec], [set(tokenize(question))], 4, ranker)


def _only(feature: str, weight: float = 1.0) -> Ranker:
    coef = np.zeros(len(FEATURES))
    coef[FEATURES.index(feature)] = weight
    return Ranker(coef, 0.0, 0.5)


def test_the_ranker_orders_the_units_and_leaves_the_confidence_alone(index, encoder):
    q = "does glutamate help neurons"
    plain = _units(index, encoder, q)
    assert [u.rank for u in plain] == [u.score for u in plain]  # no ranker: the hand-set score orders
    longest_first = _units(index, encoder, q, _only("log_words"))
    assert [len(u.text.split()) for u in longest_first] == sorted((len(u.text.split()) for u in longest_first), reverse=True)
    shortest_first = _units(index, encoder, q, _only("log_words", -1.0))
    assert shortest_first[0].text != longest_first[0].text
    by_text = {u.text: u.score for u in plain}
    assert all(u.score == by_text[u.text] for u in longest_first)  # the confidence is the same number


def test_features_are_what_they_say(index, encoder):
    units = _units(index, encoder, "does glutamate help neurons")
    for u in units:
        f = dict(zip(FEATURES, u.features))
        assert f["similarity"] == pytest.approx(u.similarity)
        assert f["log_words"] == pytest.approx(np.log1p(len(u.text.split())))
        assert f["passage_rank"] in (0.0, 1.0, 2.0, 3.0)
        assert 0.0 < f["passage_score"] <= 1.0 and 0.0 <= f["passage_lexical"] <= 1.0 and 0.0 <= f["position"] <= 1.0
        assert (f["passage_score"] == 1.0) == (f["passage_rank"] == 0.0)  # relative to the best passage's fused score
    openers = [u for u in units if u.features[FEATURES.index("opens_passage")] == 1.0]
    assert openers and all(u.features[FEATURES.index("position")] == 0.0 for u in openers)
    assert max(u.features[FEATURES.index("overlap")] for u in units if "glutamate" in u.text.lower()) > 0


def test_a_reply_is_traced_back_to_the_units_it_quoted(index):
    """The previous reply is matched to the units it quoted, whatever wraps the quote ("One source
    says", the "[1]" markers, curly quotes, line breaks); a paraphrase or an empty reply quotes none."""
    from app.compose import _units, quoted_units

    spray = next(pi for pi, p in enumerate(index.passages) if "nasal spray" in p.text)
    first, second = [(o, t) for o, t, *_ in _units(index, spray)][:2]
    reply = f'One source says \u201c{first[1]}\u201d [1]\n\n{second[1].upper()} [1]'
    assert quoted_units(index, reply) == {first[0], second[0]}
    assert quoted_units(index, "Esketamine is sprayed into the nose at a clinic.") == frozenset()
    assert quoted_units(index, "") == frozenset()


def test_conversation_features_mark_what_was_said_its_passage_and_its_neighbours(index, encoder):
    from app.compose import _units

    q = "does glutamate help neurons"
    qvec = encoder.encode([q])[0]
    hits = search(index, q, qvec, mode="hybrid", k=len(index.passages))
    n = len(index.passages)
    said_pi = 1
    said = frozenset({_units(index, said_pi)[0][0]})
    units = score_units(index, hits, [qvec], [set(tokenize(q))], n, None, said)
    feats = {u.order: dict(zip(FEATURES, u.features)) for u in units}
    for u in units:
        f = feats[u.order]
        assert f["said_before"] == float(u.order in said)
        assert f["passage_said"] == float(u.passage_index == said_pi)
        assert f["beside_said"] == float(abs(u.passage_index - said_pi) == 1)
    assert {u.passage_index for u in units if feats[u.order]["beside_said"]} == {said_pi - 1, said_pi + 1}
    # a new question (nothing said) reads zeros, and the hand-set score never reads these features
    fresh = score_units(index, hits, [qvec], [set(tokenize(q))], n)
    assert all(dict(zip(FEATURES, u.features))["passage_said"] == 0.0 for u in fresh)
    assert [u.score for u in fresh] == [u.score for u in sorted(units, key=lambda u: [x.order for x in fresh].index(u.order))]
    # a ranker that prefers the neighbours of what was said puts one of them first
    nb = score_units(index, hits, [qvec], [set(tokenize(q))], n, _only("beside_said"), said)
    assert nb[0].passage_index in (said_pi - 1, said_pi + 1)
    not_again = score_units(index, hits, [qvec], [set(tokenize(q))], n, _only("said_before", -1.0), said)
    assert not_again[-1].order in said


def test_training_learns_which_feature_marks_the_answer():
    rng = np.random.default_rng(0)
    groups = []
    for _ in range(60):
        X = rng.normal(size=(8, len(FEATURES)))
        y = np.zeros(8, dtype=bool)
        y[int(np.argmax(X[:, FEATURES.index("overlap")]))] = True  # the answer is the unit with most overlap
        groups.append((X, y, X[:, FEATURES.index("similarity")]))  # a "hand-set" score that ignores overlap
    ranker, report = fit(groups, c=1.0)  # 8 units of pure noise per question: less regularisation than for real sets
    assert int(np.argmax(np.abs(ranker.coef))) == FEATURES.index("overlap") and ranker.coef[FEATURES.index("overlap")] > 0
    assert report["top1_training"] > 0.9 > report["top1_hand_set"]
    assert top1(groups, [g[0] @ ranker.coef for g in groups]) == pytest.approx(report["top1_training"], abs=1e-4)


def test_training_learns_per_dimension_weights_from_the_vectors():
    """When what marks the answer is one embedding dimension of unit times question, the learned
    metric finds that dimension, and ranks better than the features alone can."""
    rng = np.random.default_rng(1)
    groups = []
    for _ in range(80):
        X = rng.normal(size=(8, len(FEATURES)))
        A = rng.normal(size=(8, 16)).astype(np.float32)
        y = np.zeros(8, dtype=bool)
        y[int(np.argmax(A[:, 5]))] = True
        groups.append((X, y, X[:, 0], A))
    ranker, report = fit(groups, c=1.0)
    assert ranker.metric is not None and ranker.metric.shape == (16,) and report["per_dimension_weights"] == 16
    assert int(np.argmax(np.abs(ranker.metric))) == 5 and ranker.metric[5] > 0
    learned = [scores(ranker, g) for g in groups]
    assert top1(groups, learned) > 0.9 > top1(groups, [g[2] for g in groups])
    assert in_reply(groups, learned, 0.0, cap=1) == pytest.approx(top1(groups, learned))  # margin 0, one quote: the best one
    # without agreement the ranker reads the features alone
    assert np.allclose(ranker.scores(groups[0][0]), groups[0][0] @ ranker.coef)


def test_the_file_round_trips_and_a_bad_one_is_refused_or_ignored(tmp_path, caplog):
    path = tmp_path / "ranker.json"
    assert load_ranker(path) is None  # no file: the hand-set score
    save_ranker(_only("overlap", 2.0), "fake@1", path)
    loaded = load_ranker(path, "fake@1")
    assert loaded.coef[FEATURES.index("overlap")] == 2.0 and loaded.margin == 0.5
    with_metric = Ranker(loaded.coef, 0.0, 0.5, np.arange(4, dtype=np.float32))
    save_ranker(with_metric, "fake@1", path)
    assert np.array_equal(load_ranker(path, "fake@1", dim=4).metric, with_metric.metric)
    with caplog.at_level(logging.WARNING):
        assert load_ranker(path, "fake@1", dim=384) is None  # weights for another embedding size
    d = json.loads(path.read_text())
    path.write_text(json.dumps({**d, "features": d["features"][:-1]}))
    with caplog.at_level(logging.WARNING):
        assert load_ranker(path, "fake@1") is None
    assert "train-ranker" in caplog.text
    path.write_text("{not json")
    with pytest.raises(RankerError, match="train-ranker"):
        load_ranker(path, "fake@1")


def test_passages_move_to_where_their_best_sentence_stands(index, encoder):
    from dataclasses import replace

    from app.compose import by_best_unit

    q = "does glutamate help neurons"
    qvec = encoder.encode([q])[0]
    hits = search(index, q, qvec, mode="hybrid", k=4)
    units = score_units(index, hits, [qvec], [set(tokenize(q))], 4, _only("similarity"))
    assert len(hits) >= 3
    pos = [index.position[h.passage.passage_id] for h in hits]
    # the third hit's sentence is made the best one, the second hit has no quotable unit at all
    boosted = [replace(u, rank=10.0) if u.passage_index == pos[2] else u for u in units if u.passage_index != pos[1]]
    order = [index.position[h.passage.passage_id] for h in by_best_unit(index, hits, boosted)]
    assert order[0] == pos[2] and order[-1] == pos[1]
    assert sorted(order) == sorted(pos)  # reordered, nothing lost or added
    # equal best ranks keep the fused order
    flat = [replace(u, rank=1.0) for u in units]
    assert by_best_unit(index, hits, flat) == hits


def test_reordered_ranks_count_where_the_relevant_passage_lands():
    from eval.train_ranker import _recall_mrr, reordered_ranks

    ranker = _only("similarity")
    sim = FEATURES.index("similarity")
    matrix = np.zeros((4, len(FEATURES)))
    matrix[:, sim] = [0.1, 0.2, 0.9, 0.3]  # units of hits 0, 1, 2, 2: hit 2 holds the best one
    question = (matrix, None, np.array([0, 1, 2, 2]), np.array([False, False, True, False]))
    assert reordered_ranks(ranker, question) == (3, 1)
    nowhere = (matrix, None, np.array([0, 1, 2, 2]), np.zeros(4, dtype=bool))
    assert reordered_ranks(ranker, nowhere) == (0, 0)  # no relevant hit: counted as a miss
    assert _recall_mrr([3, 1, 0, 4]) == (0.5, pytest.approx((1 / 3 + 1 + 0 + 1 / 4) / 4))


def test_overlap_scored_as_arrays_matches_the_set_definition(index, encoder):
    """The vectorised overlap feature equals the IDF-weighted share of the question's stems that
    each unit contains, computed from the sets one unit at a time."""
    from app.compose import _overlap, _weights

    for q in ("does glutamate help neurons", "how is esketamine given as a spray", "zzz"):
        units = _units(index, encoder, q)
        w = _weights(set(tokenize(q)), index.idf)
        for u in units:
            assert u.features[FEATURES.index("overlap")] == pytest.approx(_overlap(w, u.stems))
