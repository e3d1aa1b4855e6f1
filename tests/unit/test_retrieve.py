import pytest

from index.retrieve import MODES, fuse, search
from index.search import Hit
from index.store import build_index


@pytest.fixture
def index(small_passages, encoder):
    return build_index(small_passages, encoder)


def _q(encoder, text):
    return encoder.encode([text])[0]


def test_bm25_mode_ranks_rare_word_first(index, encoder):
    q = "what does glutamate do"
    hits = search(index, q, _q(encoder, q), mode="bm25", k=4)
    # "glutamate" only occurs in the "Brain" passage (small-002); no other passage shares a query stem
    assert [h.passage.passage_id for h in hits] == ["small-002"]
    assert hits[0].method == "bm25"
    assert hits[0].score == pytest.approx(hits[0].lexical) and hits[0].lexical > 0


def test_bm25_mode_unknown_words_give_no_hits(index, encoder):
    q = "zzzz qqqq"
    assert search(index, q, _q(encoder, q), mode="bm25") == []


def test_dense_mode_sorted_by_score(index, encoder):
    q = "esketamine nasal spray for treatment-resistant depression"
    hits = search(index, q, _q(encoder, q), mode="dense", k=4)
    assert len(hits) == 4  # pool 200 >= 4 passages: every passage has a finite dense score
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    # with a bag-of-words encoder, the passage sharing most query words wins
    assert hits[0].passage.passage_id == "small-001"
    assert all(h.method == "dense" and h.score == pytest.approx(h.dense) for h in hits)


def test_dense_mode_respects_k(index, encoder):
    q = "ketamine"
    assert len(search(index, q, _q(encoder, q), mode="dense", k=2)) == 2


def test_hybrid_mode_ranks_lexical_and_dense_agreement_first(index, encoder):
    q = "dizziness nausea blood pressure"
    hits = search(index, q, _q(encoder, q), mode="hybrid", k=4)
    assert hits[0].passage.passage_id == "small-003"
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    # the top passage is first in all three lists: w_passage/61 + w_sentence/61 + w_bm25/61
    w = {"passage": 1.0, "sentence": 1.0, "bm25": 1.0}
    hits_equal = search(index, q, _q(encoder, q), mode="hybrid", k=4, weights=w)
    assert hits_equal[0].score == pytest.approx(3 / 61)  # rank 1 in each list: 1/61 three times


def test_unknown_mode(index, encoder):
    with pytest.raises(ValueError) as ei:
        search(index, "x", _q(encoder, "x"), mode="sparse")
    assert "sparse" in str(ei.value)
    assert set(MODES) == {"dense", "bm25", "hybrid"}


def _hit(p, dense=0.0, lexical=0.0):
    return Hit(p, 0.0, "dense", dense, lexical)


def test_fuse_prefers_passage_in_both_lists(small_passages):
    a, b, c, d = small_passages
    one = [_hit(a), _hit(b, dense=0.1)]
    two = [_hit(c), _hit(b, dense=0.5), _hit(d)]
    fused = fuse([one, two], k=5)
    # b: 1/62 + 1/62 = 0.03226; a: 1/61 = 0.01639; c: 1/61; d: 1/63
    assert [h.passage.passage_id for h in fused] == [b.passage_id, a.passage_id, c.passage_id, d.passage_id]
    assert fused[0].score == pytest.approx(2 / 62)
    assert fused[-1].score == pytest.approx(1 / 63)
    assert fused[0].dense == 0.5  # keeps b's best dense score across lists


def test_fuse_weights_and_k(small_passages):
    a, b, _c, _d = small_passages
    fused = fuse([[_hit(a)], [_hit(b)]], weights=[1.0, 3.0], k=1)
    # a: 1/61, b: 3/61 -> only b survives k=1
    assert [h.passage.passage_id for h in fused] == [b.passage_id]
    assert fused[0].score == pytest.approx(3 / 61)
