"""Micro-batching of query encoding across concurrent requests.

Each caller hands its texts to one worker thread and waits; the worker takes whatever queued up
while the model was busy, and, when the previous batch was shared (the server is under load), what
arrives within a short window (default 3 ms), up to `max_batch` texts; it encodes them in one model
call and hands each caller its rows. A lone user never waits for the window; under load, many short
queries share a forward pass, so throughput grows with concurrency instead of queueing behind the
model. Wraps any encoder with `encode(texts)`, `model_id` and `dim`.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future

import numpy as np


class BatchingEncoder:
    def __init__(self, encoder, window_ms: float = 3.0, max_batch: int = 64):
        self.inner = encoder
        self.model_id = encoder.model_id
        self.window = window_ms / 1000
        self.max_batch = max_batch
        self._q: queue.Queue = queue.Queue()
        self._last = 0  # callers in the previous batch
        self._worker = threading.Thread(target=self._run, name="encode-batcher", daemon=True)
        self._worker.start()

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(self, texts: list[str]) -> np.ndarray:
        fut: Future = Future()
        self._q.put((list(texts), fut))
        return fut.result()

    def _run(self) -> None:
        while True:
            batch = [self._q.get()]
            n = len(batch[0][0])
            while n < self.max_batch:  # whatever queued up during the previous model call joins at once
                try:
                    item = self._q.get_nowait()
                except queue.Empty:
                    break
                batch.append(item)
                n += len(item[0])
            # Wait for more only under load (the previous batch was shared): a lone user never pays the window.
            deadline = time.perf_counter() + (self.window if self._last > 1 else 0.0)
            while n < self.max_batch:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    break
                try:
                    item = self._q.get(timeout=remaining)
                except queue.Empty:
                    break
                batch.append(item)
                n += len(item[0])
            self._last = len(batch)
            texts = [t for ts, _ in batch for t in ts]
            try:
                vecs = self.inner.encode(texts)
            except Exception as exc:  # noqa: BLE001 - every waiting caller gets the error
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            i = 0
            for ts, fut in batch:
                fut.set_result(vecs[i : i + len(ts)])
                i += len(ts)
