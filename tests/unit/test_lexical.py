import numpy as np
import pytest

from index.lexical import BM25, STOPWORDS, stem, tokenize, words


def test_tokenize_drops_stop_words():
    # "what", "is", "a", "and", "does", "it" are stop words; "it’s" folds to "its", also a stop word
    assert tokenize("What is a k-hole, and does it’s effect last?") == ["khol", "effect", "last"]


def test_k_hole_is_one_token():
    assert words("a k-hole") == ["a", "khole"]  # hyphen folded, not split
    assert len(tokenize("k-hole")) == 1
    assert tokenize("k-hole") == tokenize("khole") == tokenize("K-Hole")


def test_apostrophes_fold():
    assert words("Ketamine’s effect") == ["ketamines", "effect"]
    assert words("ketamine's") == words("ketamine’s")


@pytest.mark.parametrize(
    "a, b",
    [("infusions", "infusion"), ("depression", "depressed"), ("anxious", "anxiety"), ("treatments", "treatment")],
)
def test_stem_brings_forms_together(a, b):
    assert stem(a) == stem(b)


def test_stem_hand_examples():
    assert stem("infusions") == "infus"  # "ions" removed (5 letters stay >= 4)
    assert stem("depressed") == "depress"  # "ed" removed
    assert stem("ketamine") == "ketamin"  # no suffix; trailing 'e' dropped on words longer than 4
    assert stem("dose") == "dose"  # 4 letters or fewer: untouched
    assert stem("2007") == "2007"  # digits untouched
    assert stem("ideas") == "idea"  # "s" removed leaves 4 letters, the minimum


def test_stem_keeps_at_least_four_letters():
    # "cation" would lose "ation" leaving "c" (< 4): no suffix rule applies, only the final 'e' rule (n/a)
    assert stem("cation") == "cation"


def test_stopwords_are_lowercase_words():
    assert "the" in STOPWORDS and "ketamine" not in STOPWORDS


TEXTS = [
    "Ketamine infusions help depression.",
    "Esketamine is a nasal spray.",
    "Glutamate receptors matter for neurons.",
    "Ketamine helps depression quickly.",
]


def test_bm25_rare_word_ranks_its_passage_first():
    bm = BM25(TEXTS)
    s = bm.scores("what about glutamate?")
    assert s.shape == (4,)
    assert int(np.argmax(s)) == 2
    # only passage 2 contains "glutamate": every other passage scores exactly 0
    assert s[2] > 0 and np.count_nonzero(s) == 1


def test_bm25_stemmed_query_matches():
    bm = BM25(TEXTS)
    s = bm.scores("infusion")  # "infusion" and "infusions" both stem to "infus"
    assert int(np.argmax(s)) == 0 and np.count_nonzero(s) == 1


def test_bm25_common_word_ties():
    bm = BM25(TEXTS)
    s = bm.scores("ketamine")
    # "ketamine" is in passages 0 and 3 (same length 4 tokens after stop words): equal scores
    assert s[0] == pytest.approx(s[3]) and s[0] > 0
    assert s[1] == 0 and s[2] == 0  # "esketamine" is a different token


@pytest.mark.parametrize("query", ["zzzz qqqq", "", "the and of it"])
def test_bm25_unknown_or_empty_query_is_all_zero(query):
    s = BM25(TEXTS).scores(query)
    assert s.dtype == np.float32
    np.testing.assert_array_equal(s, np.zeros(4, dtype=np.float32))


def test_bm25_unknown_words_are_ignored_not_fatal():
    bm = BM25(TEXTS)
    np.testing.assert_allclose(bm.scores("glutamate zzzz"), bm.scores("glutamate"))


def test_bm25_handles_a_text_with_only_stop_words():
    bm = BM25(["the and of", "Ketamine works."])
    s = bm.scores("ketamine")
    assert s[0] == 0 and s[1] > 0
