"""Does the knowledge base even talk about what the question asks? The "coverage gap" signal.

A question whose specific terms (bladder, psilocybin, postpartum, lozenge...) never occur in the
sources cannot be answered from them, however close the nearest sentence looks to the embedding
model. A word counts as a gap when it is absent from the corpus vocabulary (after spelling
correction), is not a lay phrase or foreign term the synonym files map to source words, and is not
common in everyday English, Spanish, French, German or Portuguese (`wordfreq` Zipf frequency, so
"actually", "happen" or "normal" never count). Combined with similarity in `Engine.answer`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from app.query import Speller, fold, load_glossary, load_synonyms
from index.lexical import STOPWORDS, stem

COMMON_ZIPF = {"en": 4.0, "es": 3.0, "fr": 3.0, "de": 3.0, "pt": 3.0}  # en: ~ the 15,000 most frequent words
# Chat shorthand that wordfreq ranks as rare but that carries no topic.
CHAT = frozenset("ppl u ur wat wot whats pls plz thx ty lol idk tbh imo bc cuz coz rn gonna wanna kinda sorta ya yeah ok okay btw fyi smth sth abt".split())
LANGS = ("en", "es", "fr", "de", "pt")
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")


@lru_cache(maxsize=20_000)
def is_common(word: str) -> bool:
    from wordfreq import zipf_frequency

    return any(zipf_frequency(word, lang) >= z for lang, z in COMMON_ZIPF.items())


@lru_cache(maxsize=1)
def _typo_index() -> dict[str, str]:
    """Deletion index (edit distance 1) of the common English words (those `is_common` accepts), so
    a misspelt everyday word ("truama", "lond") is not mistaken for a topic the sources lack."""
    from wordfreq import top_n_list

    index: dict[str, str] = {}
    for w in top_n_list("en", 12_000):
        if len(w) >= 4 and w.isalpha():
            for d in {w} | {w[:i] + w[i + 1 :] for i in range(len(w))}:
                index.setdefault(d, w)
    return index


def is_typo_of_common(word: str) -> bool:
    from wordfreq import zipf_frequency

    idx = _typo_index()
    if len(word) < 4 or zipf_frequency(word, "en") >= 3.0:  # a real word is not a typo
        return False
    return any(d in idx for d in {word} | {word[:i] + word[i + 1 :] for i in range(len(word))})


@lru_cache(maxsize=4)
def _prefixes(corpus_stems: frozenset[str]) -> frozenset[str]:
    """The first six letters of every corpus stem: "a form of a word the sources use" in one lookup."""
    return frozenset(c[:6] for c in corpus_stems if len(c) >= 6)


def _covered_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for pat, _ in (*load_synonyms(), *load_glossary()):
        spans.extend(m.span() for m in pat.finditer(text))
    return spans


def coverage_gaps(message: str, speller: Speller, corpus_stems: frozenset[str]) -> list[str]:
    """The specific words of `message` that the sources never use (empty when all are covered)."""
    text = fold(message)
    spans = _covered_spans(text)
    originals = {fold(w): w for w in re.findall(r"\w+", message.lower())}
    gaps = []
    for m in _WORD.finditer(text):
        raw = m.group(0)
        word = re.sub(r"['’-]", "", raw)
        if word in STOPWORDS or word in CHAT or len(word) < 3 or word.isdigit() or "'" in raw or any(s <= m.start() < e for s, e in spans):
            continue
        if len(word) >= 7 and word[:6] in _prefixes(corpus_stems):
            continue  # a form of a word the sources use ("irresponsibly" / "irresponsible")
        fixed = speller.correct(word)
        if stem(fixed) in corpus_stems or fixed in speller.vocab or is_common(raw) or is_common(word):
            continue
        if is_common(originals.get(word, word)) or is_typo_of_common(word):
            continue
        gaps.append(word)
    return gaps


# What the coverage model reads beside the question's embedding: how retrieval fared. A question the
# sources leave open tends to have a weaker best sentence, one that barely beats the next, a gap
# word... `python -m eval train-coverage SETS --leave-one-set-out` on the twenty bundled sets: 0.644
# of uncovered questions caught with the embedding alone, 0.680 with these, at 0.031 and 0.028 of
# answerable ones wrongly flagged (README: Abstention).
SIGNALS = ("confidence", "margin", "topic_similarity", "top_passage", "has_gap", "gaps", "has_topic", "followup")


def retrieval_signals(confidence: float, margin: float, topic_similarity: float, top_passage: float,
                      gaps: int, has_topic: bool, followup: bool) -> dict[str, float]:
    """The named signals of `SIGNALS`, as `Engine.answer` shows them to the coverage model (training
    records them there, so both read the same numbers)."""
    return {"confidence": float(confidence), "margin": float(margin), "topic_similarity": float(topic_similarity),
            "top_passage": float(top_passage), "has_gap": float(gaps > 0), "gaps": float(min(gaps, 3)),
            "has_topic": float(bool(has_topic)), "followup": float(bool(followup))}
