"""Choosing the FAISS index by corpus size: exact below a threshold, IVF above it, tuned at build.

Below `EXACT_BELOW` vectors an exact inner-product index (IndexFlatIP) is both fastest to build
and fast enough to search. Above it, an inverted-file index (IndexIVFFlat, about 4*sqrt(n) lists,
trained on a sample) is built, and its `nprobe` is raised at build time until recall@10 against
exact search on held-back sample queries reaches `TARGET_RECALL`; the settings and the measured
recall are returned for the manifest, so a reader sees what the index trades.
"""

from __future__ import annotations

import time

import numpy as np

EXACT_BELOW = 50_000
TARGET_RECALL = 0.98


def exact(vectors: np.ndarray):
    import faiss

    idx = faiss.IndexFlatIP(vectors.shape[1])
    idx.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return idx


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10, chunk: int = 25) -> np.ndarray:
    """Ground truth by brute force, a few queries at a time so memory stays bounded."""
    out = []
    for i in range(0, len(queries), chunk):
        scores = queries[i : i + chunk] @ vectors.T
        out.append(np.argpartition(-scores, k, axis=1)[:, :k])
    return np.concatenate(out)


def recall_at(ann, vectors: np.ndarray, queries: np.ndarray, k: int = 10, truth: np.ndarray | None = None) -> float:
    truth = exact_top(vectors, queries, k) if truth is None else truth
    _, found = ann.search(queries, k)
    return float(np.mean([len(set(t) & set(f)) / k for t, f in zip(truth, found)]))


def build(vectors: np.ndarray, exact_below: int = EXACT_BELOW, target: float = TARGET_RECALL, seed: int = 0) -> tuple[object, dict]:
    """(faiss index, info for the manifest)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    if n < exact_below:
        return exact(vectors), {"index_type": "IndexFlatIP", "exact": True}
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    nlist = int(np.sqrt(n))
    quantizer = faiss.IndexFlatIP(d)
    ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = vectors[rng.choice(n, size=min(n, 40 * nlist), replace=False)]
    ivf.train(sample)
    ivf.add(vectors)
    ivf.make_direct_map()  # sentence vectors are read back by id when answers are composed
    queries = vectors[rng.choice(n, size=200, replace=False)]
    queries = queries + rng.normal(0, 0.02, queries.shape).astype(np.float32)  # near, not equal, to stored vectors
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = exact_top(vectors, queries)
    nprobe, rec = 1, 0.0
    while nprobe <= nlist:
        ivf.nprobe = nprobe
        rec = recall_at(ivf, vectors, queries, truth=truth)
        if rec >= target:
            break
        nprobe *= 2
    return ivf, {"index_type": "IndexIVFFlat", "exact": False, "nlist": nlist, "nprobe": ivf.nprobe,
                 "recall_at_10_vs_exact": round(rec, 4), "tune_seconds": round(time.perf_counter() - t0, 2)}
