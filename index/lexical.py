"""Words: tokenising, a light stemmer, and BM25 over passages (bm25s).

The tokenizer and stemmer are deliberately small and rule-based: they only have to make "infusions"
meet "infusion" and "anxious" meet "anxiety" well enough for BM25 and for spelling correction
against the corpus vocabulary. No stop-word list beyond common English function words.
"""

from __future__ import annotations

import re

import numpy as np

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    s t don im ive id dont doesnt isnt get got also like really much many way thing things""".split()
)
_TOKEN = re.compile(r"[a-z0-9]+(?:[-’'][a-z0-9]+)*")
_SUFFIXES = ("ations", "ation", "ities", "ions", "ious", "ously", "ity", "ety", "ion", "ive", "ous", "ness", "ments", "ment", "ings", "ing", "ies", "ied", "ed", "ly", "es", "s")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, apostrophes and hyphens folded ("it’s" -> "its", "k-hole" -> "khole")."""
    return [re.sub(r"[-’']", "", w) for w in _TOKEN.findall(text.lower())]


def stem(word: str) -> str:
    if len(word) <= 4 or word.isdigit():
        return word
    for suf in _SUFFIXES:
        if word.endswith(suf) and len(word) - len(suf) >= 4:
            word = word[: -len(suf)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def tokenize(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS]


class BM25:
    """BM25 scores of every passage for a query (bm25s underneath; rebuilt in milliseconds)."""

    def __init__(self, texts: list[str]):
        import bm25s

        self._n = len(texts)
        self._bm25 = bm25s.BM25()
        self._bm25.index([tokenize(t) or ["__empty__"] for t in texts], show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        tokens = tokenize(query)
        if not tokens:
            return np.zeros(self._n, dtype=np.float32)
        vocab = self._bm25.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return np.zeros(self._n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
