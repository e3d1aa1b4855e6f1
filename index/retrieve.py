"""Ranking the passages of a `KnowledgeIndex` for one query: dense, BM25 or both fused.

Dense relevance of a passage is taken two ways, from its own vector and from its best sentence
(short, specific questions match a sentence better than a paragraph); hybrid mode fuses those two
rankings with BM25 by weighted reciprocal rank. Only the top `pool` of each ranking takes part, so
the cost stays flat as the corpus grows.
"""

from __future__ import annotations

import numpy as np

from index.search import Hit, max_by_group, order, ranks, rrf
from index.store import KnowledgeIndex

MODES = ("dense", "bm25", "hybrid")
WEIGHTS = {"passage": 1.0, "sentence": 1.0, "bm25": 3.0}  # chosen on the tune split (README: Retrieval)


def _faiss_scores(faiss_index, query_vec: np.ndarray, n: int, pool: int) -> tuple[np.ndarray, np.ndarray]:
    """Full-length score array (-inf outside the pool) and the mask of pooled items."""
    k = min(pool, faiss_index.ntotal)
    scores = np.full(n, -np.inf, dtype=np.float32)
    if k == 0:
        return scores, np.zeros(n, dtype=bool)
    sims, ids = faiss_index.search(np.asarray(query_vec, dtype=np.float32).reshape(1, -1), k)
    keep = ids[0] >= 0
    scores[ids[0][keep]] = sims[0][keep]
    return scores, np.isfinite(scores)


def dense_scores(index: KnowledgeIndex, query_vec: np.ndarray, pool: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(passage-vector scores, best-sentence scores), each -inf where not pooled.
    `query_vec` is the raw normalised query vector; it is centred here like the stored vectors."""
    n = len(index.passages)
    qp, qs = index.center_query(query_vec)
    pscore, _ = _faiss_scores(index.passage_vectors, qp, n, pool)
    sscore, _ = _faiss_scores(index.sentence_vectors, qs, len(index.sentences), pool * 3)
    best_sentence = max_by_group(sscore, index.sentences[:, 0], n) if len(sscore) else np.full(n, -np.inf, np.float32)
    return pscore, best_sentence


def search(index: KnowledgeIndex, query_text: str, query_vec: np.ndarray, mode: str = "hybrid", k: int = 5,
           pool: int = 200, weights: dict[str, float] | None = None) -> list[Hit]:
    if mode not in MODES:
        raise ValueError(f"unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}")
    w = {**WEIGHTS, **(weights or {})}
    pscore, sbest = dense_scores(index, query_vec, pool)
    lexical = index.bm25.scores(query_text)
    dense = np.maximum(pscore, sbest)
    if mode == "dense":
        fused, present = dense, np.isfinite(dense)
    elif mode == "bm25":
        fused, present = lexical, lexical > 0
    else:
        # absent items score lowest (-inf outside the dense pool, 0 for BM25), so ranking them all
        # and then blanking the absent ones gives the rank among the present ones
        lists = [ranks(pscore, np.isfinite(pscore)), ranks(sbest, np.isfinite(sbest)), ranks(lexical, lexical > 0)]
        fused = rrf(lists, [w["passage"], w["sentence"], w["bm25"]])
        present = fused > 0
    hits = []
    for i in order(np.where(present, fused, -np.inf))[:k]:
        if not present[i]:
            break
        d = float(dense[i]) if np.isfinite(dense[i]) else 0.0
        hits.append(Hit(index.passages[i], float(fused[i]), mode, d, float(lexical[i])))
    return hits


def fuse(rankings: list[list[Hit]], weights: list[float] | None = None, k: int = 5) -> list[Hit]:
    """Fuse several hit lists (e.g. a follow-up searched alone and with the previous turn) by the
    same weighted RRF as the rankings inside one search. A passage keeps the best dense and lexical
    scores it had in any list."""
    best: dict[str, Hit] = {}
    for hits in rankings:
        for h in hits:
            old = best.get(h.passage.passage_id)
            best[h.passage.passage_id] = h if old is None or h.dense > old.dense else old
    ids = list(best)
    position = {pid: i for i, pid in enumerate(ids)}
    rank_lists = []
    for hits in rankings:
        r = np.zeros(len(ids), dtype=np.int64)
        for rank, h in enumerate(hits, start=1):
            r[position[h.passage.passage_id]] = rank
        rank_lists.append(r)
    total = rrf(rank_lists, weights)
    return [Hit(best[ids[i]].passage, float(total[i]), best[ids[i]].method, best[ids[i]].dense, best[ids[i]].lexical)
            for i in order(total)[:k]]
