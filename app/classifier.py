"""A small linear classifier over the query embedding: crisis / dosing / out of scope / on topic.

It catches what the patterns of `app/data/policy.toml` cannot list: paraphrases ("how fast should
I push the IV if I'm doing it myself"), slang and indirect wording. It reads the vector the engine
already computed for retrieval and, beside it, character n-grams of the same text, which carry
wording across typos and the four other languages that the English-only model reads poorly. Trained
offline with scikit-learn (`python -m eval train-safety`) on the tune split of the labelled sets; at
run time it is a dictionary lookup, a matrix product and a softmax, well under a millisecond.
Weights live in `app/data/safety_model.json` (no pickle).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).parent / "data" / "safety_model.json"
COVERAGE_PATH = Path(__file__).parent / "data" / "coverage_model.json"
LABELS = ("crisis", "refuse_dosing", "out_of_scope", "on_topic")


class ClassifierError(RuntimeError):
    """The safety model file is missing or was trained for another embedding model."""


def char_ngrams(text: str, sizes: tuple[int, int] = (2, 5)) -> list[str]:
    """Character n-grams inside word boundaries (each word padded with a space), lower-cased: they
    match "dosage", "dosis" and "dosierung", or "ket" in "ketamin", where the English-only
    embedding model sees unrelated tokens. The same function builds the features in training."""
    grams = []
    for word in text.lower().split():
        w = f" {word} "
        for n in range(sizes[0], sizes[1] + 1):
            grams.extend(w[i : i + n] for i in range(max(1, len(w) - n + 1)))
            if n >= len(w):  # a short word counts once, whole
                break
    return grams


@dataclass(frozen=True)
class CharFeatures:
    """Sublinear tf-idf of `char_ngrams`, L2-normalised, scaled by `weight` (the training recipe)."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    weight: float

    def sparse(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts: dict[int, int] = {}
        for g in char_ngrams(text):
            j = self.vocabulary.get(g)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        val = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * self.idf[idx]
        norm = float(np.sqrt((val * val).sum()))
        return idx, (val * (self.weight / norm) if norm else val)


@dataclass(frozen=True)
class Signals:
    """Named numbers beside the embedding (the coverage model reads retrieval's: how well the best
    sentence answers, by how much it beats the next...), standardised as in training."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray

    def standardise(self, values: dict[str, float]) -> np.ndarray:
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ValueError(f"the model reads the signals {', '.join(missing)}, which were not given")
        return (np.array([float(values[n]) for n in self.names], dtype=np.float32) - self.mean) / self.scale


@dataclass(frozen=True)
class SafetyModel:
    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, dim [+ signals] [+ char n-grams])
    intercept: np.ndarray  # (n_classes,)
    thresholds: dict[str, float]
    model_id: str
    chars: CharFeatures | None = None
    signals: Signals | None = None

    def proba(self, vec: np.ndarray, text: str = "", signals: dict[str, float] | None = None) -> dict[str, float]:
        """Class probabilities for the embedding `vec` of `text` (the text the model encoded) and,
        for a model that reads them, the named `signals`."""
        v = np.asarray(vec, dtype=np.float32).reshape(-1)
        z = self.coef[:, : v.shape[0]] @ v + self.intercept
        offset = v.shape[0]
        if self.signals is not None:
            s = self.signals.standardise(signals or {})
            z = z + self.coef[:, offset : offset + len(s)] @ s
            offset += len(s)
        if self.chars is not None:
            idx, val = self.chars.sparse(text)
            if len(idx):
                z = z + self.coef[:, offset + idx] @ val
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {c: float(x) for c, x in zip(self.classes, p)}

    def flags(self, vec: np.ndarray, text: str = "", signals: dict[str, float] | None = None) -> dict[str, float]:
        """The classes whose probability reaches their threshold, with that probability."""
        p = self.proba(vec, text, signals)
        return {c: p[c] for c, t in self.thresholds.items() if p.get(c, 0.0) >= t}


def load_model(path: Path = MODEL_PATH, model_id: str | None = None) -> SafetyModel | None:
    """The trained model, or None if none has been trained yet (the patterns still apply)."""
    loaded = _load(path, model_id, "safety model", "train-safety")
    return loaded[0] if loaded else None


def _load(path: Path, model_id: str | None, what: str, command: str) -> tuple[SafetyModel, dict] | None:
    """The model in `path` and the file's other fields, read once; None if there is no file."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        c = d.get("chars")
        chars = CharFeatures({g: i for i, g in enumerate(c["ngrams"])}, np.asarray(c["idf"], dtype=np.float32), float(c["weight"])) if c else None
        g = d.get("signals")
        signals = Signals(tuple(g["names"]), np.asarray(g["mean"], dtype=np.float32), np.asarray(g["scale"], dtype=np.float32)) if g else None
        if signals is not None and (not len(signals.names) == len(signals.mean) == len(signals.scale) or (signals.scale <= 0).any()):
            raise ValueError("the signals' names, means and scales do not match")
        m = SafetyModel(tuple(d["classes"]), np.asarray(d["coef"], dtype=np.float32), np.asarray(d["intercept"], dtype=np.float32),
                        dict(d["thresholds"]), d["model_id"], chars, signals)
        if m.coef.shape[1] < (len(chars.vocabulary) if chars else 0) + (len(signals.names) if signals else 0):
            raise ValueError("fewer weights than features")
    except (ValueError, KeyError, TypeError) as exc:
        raise ClassifierError(f"the {what} {path} is corrupt ({exc}); retrain it with 'python -m eval {command}'") from None
    if model_id and m.model_id.split("@")[0] != model_id.split("@")[0]:
        raise ClassifierError(f"the {what} {path} was trained for {m.model_id}, but {model_id} is configured; "
                              f"retrain it with 'python -m eval {command}'")
    return m, d


def save_model(m: SafetyModel, path: Path = MODEL_PATH, extra: dict | None = None) -> None:
    d = {"classes": list(m.classes), "coef": np.round(m.coef, 6).tolist(), "intercept": np.round(m.intercept, 6).tolist(),
         "thresholds": m.thresholds, "model_id": m.model_id, **(extra or {})}
    if m.signals is not None:
        d["signals"] = {"names": list(m.signals.names), "mean": np.round(m.signals.mean, 6).tolist(),
                        "scale": np.round(m.signals.scale, 6).tolist()}
    if m.chars is not None:
        d["chars"] = {"ngrams": sorted(m.chars.vocabulary, key=m.chars.vocabulary.get), "idf": np.round(m.chars.idf, 5).tolist(),
                      "weight": m.chars.weight}
    Path(path).write_text(json.dumps(d) + "\n", encoding="utf-8")


def load_coverage(path: Path = COVERAGE_PATH, model_id: str | None = None, passages_hash: str | None = None) -> SafetyModel | None:
    """The "do the sources cover this?" model (classes `covered`, `not_in_sources`), or None.

    It learned which questions *these* documents leave unanswered, so it is only used with the
    passages it was trained against: after a document is added or changed it is ignored, with a
    warning, until `python -m eval train-coverage` is run again; abstention then rests on the
    calibrated thresholds alone.
    """
    loaded = _load(path, model_id, "coverage model", "train-coverage")
    if loaded is None:
        return None
    m, d = loaded
    if passages_hash and d.get("passages_hash") != passages_hash:
        logging.getLogger(__name__).warning("the coverage model %s was trained for other documents; it is not used until "
                                            "'python -m eval train-coverage' is run again", path)
        return None
    return m
