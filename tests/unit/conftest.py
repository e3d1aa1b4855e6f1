"""Shared fixtures for the unit tests: a deterministic fake encoder and tiny document folders.

Nothing here loads the real sentence-transformers model.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import numpy as np
import pytest


class FakeEncoder:
    """Hashing bag-of-words embedder: each lower-cased word adds 1.0 to dimension crc32(word) % dim."""

    model_id = "fake-hash-v1"
    dim = 32

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w in re.findall(r"[a-z0-9]+", text.lower()):
                out[i, zlib.crc32(w.encode("utf-8")) % self.dim] += 1.0
            norm = float(np.linalg.norm(out[i]))
            if norm == 0.0:
                out[i, 0] = 1.0  # empty text: a fixed unit vector
            else:
                out[i] /= norm
        return out


@pytest.fixture
def encoder() -> FakeEncoder:
    return FakeEncoder()


# A small corpus with distinct topics, one rare word per passage-sized paragraph.
SMALL_DOC = """Small Ketamine Notes

Infusions

Ketamine infusions are given in a clinic under supervision. Patients rest during the visit.

Nasal Spray

Esketamine is a nasal spray used for treatment-resistant depression. The spray is taken at a clinic.

Brain

Ketamine blocks the NMDA receptor and raises glutamate. Glutamate helps neurons communicate.

Risks

Ketamine can cause dizziness and nausea. Blood pressure may rise for a short time.
"""


def write_doc(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def small_passages(tmp_path):
    """Passages of SMALL_DOC, one per section (target_words=0 keeps sections apart)."""
    from kb.documents import load_documents
    from kb.passages import build_passages

    write_doc(tmp_path / "docs", "small.txt", SMALL_DOC)
    return build_passages(load_documents(tmp_path / "docs"), target_words=0)
