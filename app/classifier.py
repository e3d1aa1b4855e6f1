"""A small linear classifier over the query embedding: crisis / dosing / out of scope / on topic.

It catches what the patterns of `app/data/policy.toml` cannot list: paraphrases ("how fast should
I push the IV if I'm doing it myself"), slang and indirect wording. Trained offline with
scikit-learn (`python -m eval train-safety`) on the tune split of the labelled sets; at run time it
is a matrix product and a softmax over the vector the engine already computed for retrieval, so it
adds well under a millisecond. Weights live in `app/data/safety_model.json` (no pickle).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).parent / "data" / "safety_model.json"
COVERAGE_PATH = Path(__file__).parent / "data" / "coverage_model.json"
LABELS = ("crisis", "refuse_dosing", "out_of_scope", "on_topic")


class ClassifierError(RuntimeError):
    """The safety model file is missing or was trained for another embedding model."""


@dataclass(frozen=True)
class SafetyModel:
    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, dim)
    intercept: np.ndarray  # (n_classes,)
    thresholds: dict[str, float]
    model_id: str

    def proba(self, vec: np.ndarray) -> dict[str, float]:
        z = self.coef @ np.asarray(vec, dtype=np.float32).reshape(-1) + self.intercept
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {c: float(x) for c, x in zip(self.classes, p)}

    def flags(self, vec: np.ndarray) -> dict[str, float]:
        """The classes whose probability reaches their threshold, with that probability."""
        p = self.proba(vec)
        return {c: p[c] for c, t in self.thresholds.items() if p.get(c, 0.0) >= t}


def load_model(path: Path = MODEL_PATH, model_id: str | None = None) -> SafetyModel | None:
    """The trained model, or None if none has been trained yet (the patterns still apply)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        m = SafetyModel(tuple(d["classes"]), np.asarray(d["coef"], dtype=np.float32), np.asarray(d["intercept"], dtype=np.float32),
                        dict(d["thresholds"]), d["model_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ClassifierError(f"the safety model {path} is corrupt ({exc}); retrain it with 'python -m eval train-safety'") from None
    if model_id and m.model_id.split("@")[0] != model_id.split("@")[0]:
        raise ClassifierError(f"the safety model {path} was trained for {m.model_id}, but {model_id} is configured; "
                              "retrain it with 'python -m eval train-safety'")
    return m


def save_model(m: SafetyModel, path: Path = MODEL_PATH, extra: dict | None = None) -> None:
    d = {"classes": list(m.classes), "coef": np.round(m.coef, 6).tolist(), "intercept": np.round(m.intercept, 6).tolist(),
         "thresholds": m.thresholds, "model_id": m.model_id, **(extra or {})}
    Path(path).write_text(json.dumps(d) + "\n", encoding="utf-8")


def load_coverage(path: Path = COVERAGE_PATH, model_id: str | None = None, passages_hash: str | None = None) -> SafetyModel | None:
    """The "do the sources cover this?" model (classes `covered`, `not_in_sources`), or None.

    It learned which questions *these* documents leave unanswered, so it is only used with the
    passages it was trained against: after a document is added or changed it is ignored, with a
    warning, until `python -m eval train-coverage` is run again; abstention then rests on the
    calibrated thresholds alone.
    """
    path = Path(path)
    if not path.is_file():
        return None
    m = load_model(path, model_id)
    trained_for = json.loads(path.read_text(encoding="utf-8")).get("passages_hash")
    if passages_hash and trained_for != passages_hash:
        import logging

        logging.getLogger(__name__).warning("the coverage model %s was trained for other documents; it is not used until "
                                            "'python -m eval train-coverage' is run again", path)
        return None
    return m
