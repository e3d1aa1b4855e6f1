"""The micro-batching encoder: every caller gets its own rows, queued callers share a model call,
errors reach every caller of the failed batch."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from index.batcher import BatchingEncoder
from tests.unit.conftest import FakeEncoder


class GatedEncoder(FakeEncoder):
    """A fake encoder whose first call blocks until released, recording each call's texts."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def encode(self, texts):
        self.batches.append(list(texts))
        if len(self.batches) == 1:
            self.entered.set()
            assert self.release.wait(10)
        return super().encode(texts)


def _call_all(batcher, texts_per_caller):
    results = [None] * len(texts_per_caller)

    def call(i):
        results[i] = batcher.encode(texts_per_caller[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(texts_per_caller))]
    for t in threads:
        t.start()
    return threads, results


def test_each_caller_gets_its_own_rows():
    inner = FakeEncoder()
    batcher = BatchingEncoder(inner, window_ms=5)
    texts = [[f"question {i} about ketamine"] if i % 3 else [f"first {i}", f"second {i} pair"] for i in range(24)]
    threads, results = _call_all(batcher, texts)
    for t in threads:
        t.join(10)
    for ts, got in zip(texts, results):
        np.testing.assert_array_equal(got, FakeEncoder().encode(ts))


def _queue_behind_a_busy_model(inner: GatedEncoder, batcher: BatchingEncoder, queued: list[list[str]]) -> list:
    """Hold the model in a first call while `queued` callers line up, then let everything finish."""
    first, _ = _call_all(batcher, [["lone question"]])
    assert inner.entered.wait(10)
    threads, results = _call_all(batcher, queued)
    while batcher._q.qsize() < len(queued):
        threading.Event().wait(0.001)
    inner.release.set()
    for t in first + threads:
        t.join(10)
    return results


def test_callers_queued_behind_a_busy_model_share_one_call():
    inner = GatedEncoder()
    results = _queue_behind_a_busy_model(inner, BatchingEncoder(inner, window_ms=0), [[f"queued {i}"] for i in range(5)])
    assert inner.batches[0] == ["lone question"]
    assert sorted(inner.batches[1]) == sorted(f"queued {i}" for i in range(5))
    assert len(inner.batches) == 2
    assert all(r.shape == (1, inner.dim) for r in results)


def test_max_batch_is_respected():
    inner = GatedEncoder()
    _queue_behind_a_busy_model(inner, BatchingEncoder(inner, window_ms=0, max_batch=3), [[f"q{i}"] for i in range(7)])
    assert [len(b) for b in inner.batches[1:]] == [3, 3, 1]


def test_an_encoder_error_reaches_every_caller_and_the_batcher_keeps_working():
    class Failing(FakeEncoder):
        fail = True

        def encode(self, texts):
            if self.fail:
                raise RuntimeError("model exploded")
            return super().encode(texts)

    inner = Failing()
    batcher = BatchingEncoder(inner, window_ms=1)
    with pytest.raises(RuntimeError, match="model exploded"):
        batcher.encode(["a question"])
    inner.fail = False
    assert batcher.encode(["a question"]).shape == (1, inner.dim)
