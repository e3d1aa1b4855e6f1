import numpy as np
import pytest

from index.search import cosine_scores, max_by_group, order, ranks, rrf, top_k

Q = np.array([1.0, 0.0, 0.0], dtype=np.float32)
M = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.6, 0.8, 0.0],
        [0.0, 0.0, 1.0],
        [-1.0, 0.0, 0.0],
    ],
    dtype=np.float32,
)


def test_cosine_scores_hand_vectors():
    # dot products with (1,0,0): the first coordinate of each unit row
    np.testing.assert_allclose(cosine_scores(Q, M), [1.0, 0.6, 0.0, -1.0], atol=1e-6)
    # query (0.6, 0.8, 0): row1 -> 0.6, row2 -> 0.36+0.64 = 1.0, row3 -> 0, row4 -> -0.6
    np.testing.assert_allclose(cosine_scores(np.array([0.6, 0.8, 0.0]), M), [0.6, 1.0, 0.0, -0.6], atol=1e-6)
    assert cosine_scores(Q, M).dtype == np.float32


def test_cosine_scores_empty_matrix():
    out = cosine_scores(Q, np.zeros((0, 3), dtype=np.float32))
    assert out.shape == (0,)


def test_order_is_descending_and_stable_on_ties():
    # 0.9 at indices 1 and 3 tie: corpus order keeps 1 before 3
    assert order(np.array([0.2, 0.9, 0.5, 0.9])).tolist() == [1, 3, 2, 0]
    # all equal -> identity order
    assert order(np.zeros(4)).tolist() == [0, 1, 2, 3]
    # -inf sorts last
    assert order(np.array([-np.inf, 0.0, -1.0])).tolist() == [1, 2, 0]


def test_top_k():
    scores = np.array([0.2, 0.9, 0.5, 0.9])
    assert top_k(scores, 3) == [(1, pytest.approx(0.9)), (3, pytest.approx(0.9)), (2, pytest.approx(0.5))]
    assert top_k(scores, 0) == []
    assert top_k(scores, -2) == []  # negative k is treated as 0
    assert [i for i, _ in top_k(scores, 10)] == [1, 3, 2, 0]  # k beyond length -> everything


def test_max_by_group():
    values = np.array([0.1, 0.7, 0.3, 0.9, -0.2])
    groups = np.array([0, 0, 1, 1, 3])
    # group 0: max(0.1, 0.7); group 1: max(0.3, 0.9); group 2: nobody -> -inf; group 3: -0.2
    out = max_by_group(values, groups, 4)
    np.testing.assert_allclose(out, [0.7, 0.9, -np.inf, -0.2], atol=1e-6)


def test_sentence_scores_roll_up_to_passages():
    # 3 sentences: s0, s1 in passage 0, s2 in passage 1; query (1,0,0)
    sentences = np.array([[0.0, 1.0, 0.0], [0.8, 0.6, 0.0], [0.6, 0.0, 0.8]], dtype=np.float32)
    best = max_by_group(cosine_scores(Q, sentences), np.array([0, 0, 1]), 2)
    # passage 0: max(0, 0.8) = 0.8; passage 1: 0.6
    np.testing.assert_allclose(best, [0.8, 0.6], atol=1e-6)


def test_ranks_with_ties_and_absent():
    scores = np.array([0.2, 0.9, 0.5, 0.9])
    # order [1, 3, 2, 0] -> item 1 rank 1, item 3 rank 2, item 2 rank 3, item 0 rank 4
    assert ranks(scores).tolist() == [4, 1, 3, 2]
    # item 2 not present -> rank 0; the others keep their ranks
    assert ranks(scores, np.array([True, True, False, True])).tolist() == [4, 1, 0, 2]


def test_rrf_unweighted():
    a = np.array([1, 2, 0])
    b = np.array([2, 1, 3])
    out = rrf([a, b])
    # k=60: item0 = 1/61 + 1/62; item1 = 1/62 + 1/61; item2 = 0 (absent in a) + 1/63
    np.testing.assert_allclose(out, [1 / 61 + 1 / 62, 1 / 62 + 1 / 61, 1 / 63])


def test_rrf_weighted_and_custom_k():
    a = np.array([1, 2, 0])
    b = np.array([2, 1, 3])
    out = rrf([a, b], weights=[1.0, 2.0])
    # item0 = 1/61 + 2/62 = 0.04865; item1 = 1/62 + 2/61 = 0.04892 -> item1 now beats item0
    np.testing.assert_allclose(out, [1 / 61 + 2 / 62, 1 / 62 + 2 / 61, 2 / 63])
    assert out[1] > out[0]
    # k=0, one list ranks [1, 2, 0] -> 1/1, 1/2, 0
    np.testing.assert_allclose(rrf([a], k=0), [1.0, 0.5, 0.0])


def test_rrf_all_absent_is_zero():
    np.testing.assert_array_equal(rrf([np.zeros(3, dtype=np.int64)]), [0.0, 0.0, 0.0])
