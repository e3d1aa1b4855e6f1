"""Extractive answers: pick the few source sentences that answer, quote them verbatim, cite them.

Candidates are the sentences of the best retrieved passages (a bulleted list counts as one unit, so
its items are never quoted without their lead-in). Each is scored by the learned ranker (or, without
one, by cosine to the question plus word overlap with it), all of a question's candidates at once;
the engine also moves each passage to where its best sentence stands. The best one answers, and up
to `max_sentences - 1` more join it if they score nearly as well, say something new (not a
near-duplicate from the other document) and fit the word budget. A sentence that opens by pointing
back ("It's as if...", "That's concerning...") brings the sentence before it. Quotes appear in source order within each document, the best document first.
This module never writes a word of its own into an answer.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.classifier import ClassifierError
from app.guard import has_dose_number
from app.query import fold
from index.lexical import tokenize
from index.search import Hit
from index.store import KnowledgeIndex

LEXICAL_WEIGHT = 0.45
RANK_PENALTY = 0.01
EXTRA_MARGIN = 0.3
DUPLICATE_JACCARD = 0.6
_POINTS_BACK = re.compile(
    r"^(it[’']s as if|that[’']s|this|these|those|they|their|its|afterward|however|furthermore|indeed|of course|the concern)\b"
    r"|\b(this|these|that|those) (risk|concern|problem|study|studies|treatment|effect|research|discovery|mechanism|response)\b", re.I)


# What the sentence ranker reads about a candidate unit (see `Ranker`).
FEATURES = ("similarity", "message_similarity", "overlap", "message_overlap", "passage_rank", "passage_similarity",
            "passage_score", "passage_lexical", "log_words", "opens_passage", "position",
            # a follow-up's conversation: the unit was quoted in the previous reply, its passage was, or a neighbour was
            "said_before", "passage_said", "beside_said")


@dataclass(frozen=True)
class Unit:
    passage_index: int
    order: int  # position of the unit's first sentence within the corpus, for source order
    text: str  # verbatim slice of the passage (whitespace as in the source)
    score: float  # the confidence the abstention thresholds are calibrated on
    similarity: float
    stems: frozenset[str] = frozenset()  # the unit's word stems, cached with it
    rank: float = 0.0  # what orders the candidates: the ranker's score, or `score` without one
    features: tuple[float, ...] = ()


def _is_bullet(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    return text[line_start:start].strip() in ("•", "-", "*", "·")


def _units(index: KnowledgeIndex, pi: int) -> list[tuple[int, str, np.ndarray, frozenset[str], tuple[float, float, float]]]:
    """(corpus order, text, vector, stems, the features that do not depend on the question) of each
    quotable unit of passage `pi`: a sentence, or a list's lead-in ("There are two kinds of
    ketamine:") with its bullet items. Computed once per passage and kept on the index: the answer
    path then does only arithmetic and set lookups."""
    cache = index.__dict__.setdefault("_units_cache", {})
    if pi not in cache:
        opening, last = int(index.first_sentence[pi]), max(1, len(index.passages[pi].sentences) - 1)
        cache[pi] = [(o, t, v, frozenset(tokenize(t)), (float(np.log1p(len(t.split()))), float(o == opening), (o - opening) / last))
                     for o, t, v in _build_units(index, pi)]
    return cache[pi]


@dataclass(frozen=True)
class _Block:
    """The quotable units of one passage as arrays, for scoring them all at once: their vectors,
    static features, and their word stems as ids into the corpus vocabulary (`counts` per unit).
    A unit with a dose number is left out here, once, so no answer can quote it."""

    orders: list[int]
    texts: list[str]
    stems: list[frozenset[str]]
    vecs: np.ndarray
    static: np.ndarray
    ids: np.ndarray
    counts: np.ndarray


def _vocabulary(index: KnowledgeIndex) -> dict[str, int]:
    if "_stem_ids" not in index.__dict__:
        index.__dict__["_stem_ids"] = {t: i for i, t in enumerate(index.idf)}
    return index.__dict__["_stem_ids"]


def _block(index: KnowledgeIndex, pi: int) -> _Block:
    cache = index.__dict__.setdefault("_block_cache", {})
    if pi not in cache:
        vocab = _vocabulary(index)
        units = [u for u in _units(index, pi) if not has_dose_number(u[1])]
        ids = [[vocab[t] for t in stems if t in vocab] for _, _, _, stems, _ in units]
        vecs = np.array([u[2] for u in units], dtype=np.float32).reshape(len(units), index.passage_vectors.d)
        cache[pi] = _Block([u[0] for u in units], [u[1] for u in units], [u[3] for u in units], vecs,
                           np.array([u[4] for u in units], dtype=np.float64).reshape(len(units), 3),
                           np.array([i for row in ids for i in row], dtype=np.int64), np.array([len(row) for row in ids], dtype=np.int64))
    return cache[pi]


def _build_units(index: KnowledgeIndex, pi: int) -> list[tuple[int, str, np.ndarray]]:
    p = index.passages[pi]
    vecs = index.sentence_vectors_of(pi)
    base = int(index.first_sentence[pi])
    out, j = [], 0
    while j < len(p.sentences):
        s, e = p.sentences[j]
        k = j + 1
        if p.text[s:e].rstrip().endswith(":"):
            while k < len(p.sentences) and _is_bullet(p.text, p.sentences[k][0]):
                k += 1
        if k - j > 1:
            v = vecs[j:k].mean(axis=0)
            out.append((base + j, p.text[s : p.sentences[k - 1][1]], v / (np.linalg.norm(v) or 1.0)))
        else:
            out.append((base + j, p.text[s:e], vecs[j]))
        j = k
    return out


def _weights(query_stems: set[str], idf: dict[str, float]) -> tuple[dict[str, float], float]:
    known = {t: idf[t] for t in query_stems if idf.get(t, 0.0) > 0}
    return known, sum(known.values())


def _overlap(weights: tuple[dict[str, float], float], unit_stems: frozenset[str]) -> float:
    """Share of the query's information (IDF-weighted stems) that the unit contains."""
    known, total = weights
    return sum(w for t, w in known.items() if t in unit_stems) / total if total > 0 else 0.0


@dataclass(frozen=True)
class Ranker:
    """A linear score over `FEATURES`: the hand-set one below, or one learned from which sentences
    the labelled sets name as the answer (`python -m eval train-ranker`). A learned one may also
    weigh each dimension of the embedding (`metric`): it scores the elementwise product of the
    unit's vector and the question's, a learned cosine that can count the dimensions that tell an
    answer apart for more than the ones that merely share a topic."""

    coef: np.ndarray
    intercept: float
    margin: float  # extra units join the best if their score is within this of it
    metric: np.ndarray | None = None  # one weight per embedding dimension, or None

    def scores(self, features: np.ndarray, agreement: np.ndarray | None = None) -> np.ndarray:
        """`agreement`: per unit, its vector times the question's, elementwise (see `candidates`)."""
        out = features @ self.coef + self.intercept
        if self.metric is not None and agreement is not None:
            out = out + agreement @ self.metric
        return out


# Similarity plus overlap of the question's informative words, a little less for lower passages:
# the confidence the abstention thresholds are calibrated on, and the order when nothing is learned.
HAND_SET = Ranker(np.array([1.0, 0.0, LEXICAL_WEIGHT, 0.0, -RANK_PENALTY] + [0.0] * (len(FEATURES) - 5)), 0.0, EXTRA_MARGIN)


def quoted_units(index: KnowledgeIndex, reply: str) -> frozenset[int]:
    """The corpus orders of the units a reply quotes (the previous assistant turn of a follow-up):
    a unit counts when its text, or its first 80 characters for a long one, appears in the reply
    after both are folded, so "One source says ..." and the reply's own "[1]" markers do not matter."""
    folded = fold(reply)
    if not folded:
        return frozenset()
    if "_folded_units" not in index.__dict__:
        index.__dict__["_folded_units"] = [(o, fold(t)[:80]) for pi in range(len(index.passages)) for o, t, *_ in _units(index, pi)]
    return frozenset(o for o, t in index.__dict__["_folded_units"] if len(t) >= 20 and t in folded)


def around_said(index: KnowledgeIndex, said: frozenset[int]) -> tuple[set[int], set[int]]:
    """(the passages holding the units `said`, the passages beside them in the same document)."""
    passages = index.passages
    quoted = {int(np.searchsorted(index.first_sentence, o, side="right")) - 1 for o in said}
    beside = {n for q in quoted for n in (q - 1, q + 1) if 0 <= n < len(passages) and passages[n].doc_id == passages[q].doc_id}
    return quoted, beside - quoted


def _context(index: KnowledgeIndex, said: frozenset[int], top: list[int], blocks: list[_Block]) -> np.ndarray:
    """Per unit: quoted in the previous reply; its passage quoted; a passage beside a quoted one in
    the same document (the study's next paragraph, the reason after the claim)."""
    rows = sum(len(b.orders) for b in blocks)
    if not said:
        return np.zeros((rows, 3))
    quoted, beside = around_said(index, said)
    return np.array([(float(o in said), float(pi in quoted), float(pi in beside)) for pi, b in zip(top, blocks) for o in b.orders],
                    dtype=np.float64).reshape(rows, 3)


def candidates(index: KnowledgeIndex, hits: list[Hit], query_vecs: list[np.ndarray], query_stems: list[set[str]],
               n_passages: int, said: frozenset[int] = frozenset()) -> tuple[list[tuple[int, int, str, frozenset[str]]], np.ndarray, np.ndarray]:
    """The quotable units of the top passages (none with a dose number): (passage, order, text, stems) of each, their `FEATURES`, and
    their agreement with the question (unit vector times the mean query vector, elementwise). With
    several query vectors (a follow-up searched alone and with its context) a unit takes its best
    similarity to any of them, and its best overlap with any of the stem sets (the question's own
    words, or with lay words expanded). `said`: the units the previous reply quoted, for a
    follow-up (`quoted_units`). All units are scored at once, as arrays."""
    qs = np.stack([index.center_query(q)[1] for q in query_vecs])
    top = [(index.position[h.passage.passage_id], h) for h in hits[:n_passages]]
    blocks = [_block(index, pi) for pi, _ in top]
    sizes = np.array([len(b.orders) for b in blocks], dtype=np.int64)
    if not sizes.sum():
        return [], np.zeros((0, len(FEATURES))), np.zeros((0, qs.shape[1]), dtype=np.float32)
    vecs = np.vstack([b.vecs for b in blocks])
    sims = qs @ vecs.T  # (queries, units)
    # overlap: the share of a query's IDF weight whose stems the unit has, for every unit at once
    counts = np.concatenate([b.counts for b in blocks])
    owner = np.repeat(np.arange(len(counts)), counts)
    ids = np.concatenate([b.ids for b in blocks])
    vocab = _vocabulary(index)
    overlaps = []
    for stems in query_stems:
        known, total = _weights(stems, index.idf)
        w = np.zeros(len(vocab))
        for t, x in known.items():
            w[vocab[t]] = x
        got = np.bincount(owner, weights=w[ids], minlength=len(counts)) if len(ids) else np.zeros(len(counts))
        overlaps.append(got / total if total > 0 else got * 0.0)
    overlaps = np.array(overlaps)
    best = max((h.score for h in hits), default=0.0) or 1.0
    best_lexical = max((h.lexical for h in hits), default=0.0) or 1.0
    per_hit = np.array([(rank, h.dense, h.score / best, h.lexical / best_lexical) for rank, (_, h) in enumerate(top)], dtype=np.float64)
    matrix = np.column_stack([sims.max(axis=0), sims[0], overlaps.max(axis=0), overlaps[0],
                              np.repeat(per_hit, sizes, axis=0), np.vstack([b.static for b in blocks]),
                              _context(index, said, [pi for pi, _ in top], blocks)])
    found = [(pi, o, t, st) for (pi, _), b in zip(top, blocks) for o, t, st in zip(b.orders, b.texts, b.stems)]
    return found, matrix, vecs * qs.mean(axis=0)


def score_units(index: KnowledgeIndex, hits: list[Hit], query_vecs: list[np.ndarray], query_stems: list[set[str]], n_passages: int,
                ranker: Ranker | None = None, said: frozenset[int] = frozenset()) -> list[Unit]:
    """Score every unit of the top passages (see `candidates`). `score` is the hand-set score, the
    confidence; `rank` the ranker's (the hand-set one without), which orders them."""
    found, matrix, agreement = candidates(index, hits, query_vecs, query_stems, n_passages, said)
    if not found:
        return []
    ranks = (ranker or HAND_SET).scores(matrix, agreement).tolist()
    units = [Unit(pi, order, text, score, f[0], stems, r, tuple(f))
             for (pi, order, text, stems), f, score, r in zip(found, matrix.tolist(), HAND_SET.scores(matrix).tolist(), ranks)]
    return sorted(units, key=lambda u: (-u.rank, u.order))


def by_best_unit(index: KnowledgeIndex, hits: list[Hit], units: list[Unit]) -> list[Hit]:
    """The hits reordered by the rank of their best unit (fused order among equals, and for hits
    with no quotable unit, which go last): the passage holding the sentence that answers first."""
    best: dict[int, float] = {}
    for u in units:
        best[u.passage_index] = max(best.get(u.passage_index, -np.inf), u.rank)
    key = [best.get(index.position[h.passage.passage_id], -np.inf) for h in hits]
    return [hits[i] for i in sorted(range(len(hits)), key=lambda i: -key[i])]


RANKER_PATH = Path(__file__).parent / "data" / "ranker.json"


def load_ranker(path: Path = RANKER_PATH, model_id: str | None = None, dim: int | None = None) -> Ranker | None:
    """The learned ranker, or None (the hand-set score then orders the units): when there is no
    file, or it was trained for another embedding model or other features (a warning says how to
    retrain). A corrupt file is an error, so it cannot go unnoticed."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        metric = None if d.get("metric") is None else np.asarray(d["metric"], dtype=np.float32)
        ranker = Ranker(np.asarray(d["coef"], dtype=np.float64), float(d["intercept"]), float(d["margin"]), metric)
        features, trained_for = tuple(d["features"]), d["model_id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RankerError(f"the sentence ranker {path} is corrupt ({exc}); retrain it with 'python -m eval train-ranker'") from None
    wrong_metric = metric is not None and (metric.ndim != 1 or (dim is not None and metric.shape != (dim,)))
    if features != FEATURES or ranker.coef.shape != (len(FEATURES),) or wrong_metric or (model_id and trained_for.split("@")[0] != model_id.split("@")[0]):
        logging.getLogger(__name__).warning("the sentence ranker %s was trained for %s with other features or another model; "
                                            "it is not used until 'python -m eval train-ranker' is run again", path, trained_for)
        return None
    return ranker


def save_ranker(ranker: Ranker, model_id: str, path: Path = RANKER_PATH, extra: dict | None = None) -> None:
    d = {"features": list(FEATURES), "coef": [round(float(x), 6) for x in ranker.coef], "intercept": round(ranker.intercept, 6),
         "margin": ranker.margin, "metric": None if ranker.metric is None else [round(float(x), 6) for x in ranker.metric],
         "model_id": model_id, **(extra or {})}
    Path(path).write_text(json.dumps(d, indent=1) + "\n", encoding="utf-8")


class RankerError(ClassifierError):
    """The sentence ranker's file is corrupt (handled wherever a corrupt model file is)."""


def _jaccard(a: Unit, b: Unit) -> float:
    x, y = a.stems, b.stems
    return len(x & y) / len(x | y) if x | y else 0.0


def _previous_unit(index: KnowledgeIndex, unit: Unit) -> Unit | None:
    """The unit just before `unit` in the same document and section, if any."""
    p = index.passages[unit.passage_index]
    for pi in (unit.passage_index, unit.passage_index - 1):
        if pi < 0 or index.passages[pi].doc_id != p.doc_id or index.passages[pi].section != p.section:
            continue
        before = [u for u in _units(index, pi) if u[0] < unit.order]
        if before:
            order, text, _, stems, _ = before[-1]
            return Unit(pi, order, text, unit.score, unit.similarity, stems)
    return None


def select(index: KnowledgeIndex, ranked: list[Unit], max_units: int, max_words: int, margin: float = EXTRA_MARGIN) -> list[Unit]:
    if not ranked:
        return []
    best = ranked[0]
    chosen: list[Unit] = []

    def add(u: Unit) -> bool:
        words = sum(len(c.text.split()) for c in chosen) + len(u.text.split())
        if any(c.order == u.order for c in chosen) or (chosen and words > max_words):
            return False
        if any(_jaccard(c, u) >= DUPLICATE_JACCARD for c in chosen):
            return False
        if _POINTS_BACK.search(u.text):
            prev = _previous_unit(index, u)
            if prev and all(c.order != prev.order for c in chosen):
                if sum(len(c.text.split()) for c in chosen) + len(prev.text.split()) + len(u.text.split()) <= max_words:
                    chosen.append(prev)
        chosen.append(u)
        return True

    add(best)
    for u in ranked[1:]:
        if len(chosen) >= max_units or u.rank < best.rank - margin:
            break
        add(u)
    first_doc = index.passages[best.passage_index].doc_id
    return sorted(chosen, key=lambda u: (index.passages[u.passage_index].doc_id != first_doc, u.order))
