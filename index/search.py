"""Pure ranking functions over vectors and score arrays: no model, no files.

Dense scores are inner products of L2-normalised vectors (cosine). Fusion is reciprocal rank fusion
(Cormack et al. 2009), optionally weighted. Sentence scores roll up to passages by max, so a passage
is as relevant as its best sentence. Everything takes and returns numpy arrays or plain tuples, so
it can be checked by hand with 3-d vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kb.passages import Passage

RRF_K = 60


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # the fused score used for ranking
    method: str  # "dense", "bm25" or "hybrid"
    dense: float  # best cosine of the passage or one of its sentences to the query
    lexical: float  # BM25 score


def cosine_scores(query: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Cosine of one normalised query vector against each normalised row of `matrix`."""
    if matrix.size == 0:
        return np.zeros(0, dtype=np.float32)
    return (matrix @ np.asarray(query, dtype=np.float32).reshape(-1)).astype(np.float32)


def order(scores: np.ndarray) -> np.ndarray:
    """Indices by descending score; ties keep corpus order (stable), so results are reproducible."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    return [(int(i), float(scores[i])) for i in order(scores)[: max(0, k)]]


def max_by_group(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the max of `values` whose entry in `groups` is that group (-inf where none)."""
    out = np.full(n_groups, -np.inf, dtype=np.float32)
    np.maximum.at(out, np.asarray(groups, dtype=np.int64), np.asarray(values, dtype=np.float32))
    return out


def ranks(scores: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """1-based rank of each item by descending score; items not `present` get rank 0 (absent)."""
    r = np.zeros(len(scores), dtype=np.int64)
    idx = order(scores)
    r[idx] = np.arange(1, len(scores) + 1)
    if present is not None:
        r[~present] = 0
    return r


def rrf(rank_lists: list[np.ndarray], weights: list[float] | None = None, k: int = RRF_K) -> np.ndarray:
    """Weighted reciprocal rank fusion: sum over lists of w / (k + rank); rank 0 means absent."""
    weights = weights or [1.0] * len(rank_lists)
    total = np.zeros(len(rank_lists[0]), dtype=np.float64)
    for r, w in zip(rank_lists, weights):
        total += np.where(r > 0, w / (k + np.maximum(r, 1)), 0.0)
    return total
