"""index.ann: exact below the threshold, IVF tuned to the target recall above it."""

import numpy as np

from index.ann import build, exact_top, recall_at


def clustered(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, d))
    x = centres[rng.integers(0, 50, n)] + rng.normal(0, 0.1, (n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_small_corpus_is_exact():
    v = clustered(500)
    idx, info = build(v, exact_below=1000)
    assert info["index_type"] == "IndexFlatIP" and recall_at(idx, v, v[:20]) == 1.0


def test_large_corpus_gets_ivf_meeting_the_recall_target():
    v = clustered(4000)
    idx, info = build(v, exact_below=1000, target=0.98)
    assert info["index_type"] == "IndexIVFFlat"
    assert info["nlist"] == int(np.sqrt(4000))  # 63 lists
    assert info["recall_at_10_vs_exact"] >= 0.98
    q = v[100:150]
    assert recall_at(idx, v, q) >= 0.95  # fresh queries, same settings
    assert idx.reconstruct(7).shape == (32,)  # direct map: sentence vectors can be read back


def test_exact_top_matches_brute_force():
    v = clustered(300)
    q = v[:5]
    top = exact_top(v, q, k=3)
    for row, qi in zip(top, q):
        assert set(row) == set(np.argsort(-(v @ qi))[:3])
