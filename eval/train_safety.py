"""Training the embedding classifier of `app/classifier.py` on labelled sets (tune split only).

Examples are the messages themselves and, for conversations, the message read with the previous
user turn (how the engine reads follow-ups). Logistic regression, classes balanced. Thresholds are
chosen on 5-fold cross-validated probabilities, never on the training fit: for each flagged class
the lowest threshold whose false-positive rate on on-topic questions stays within `max_fp`
(dosing: the share of answerable questions wrongly refused, i.e. over-refusal).
"""

from __future__ import annotations

import numpy as np

from app.classifier import SafetyModel

CLASS_OF = {"crisis": "crisis", "refuse_dosing": "refuse_dosing", "out_of_scope": "out_of_scope",
            "answer": "on_topic", "not_in_sources": "on_topic"}
MAX_FP = {"crisis": 0.005, "refuse_dosing": 0.015, "out_of_scope": 0.01}


def examples(engine, items) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for it in items:
        label = CLASS_OF[it.expect]
        texts.append(engine.dense_text(it.question))
        labels.append(label)
        prev = [t.content for t in it.history if t.role == "user"]
        if prev:
            texts.append(engine.dense_text(f"{prev[-1]} {it.question}"))
            labels.append(label)
    return texts, labels


def lowest_threshold(neg: np.ndarray, max_fp: float) -> float:
    """The lowest threshold (0.05 to 0.99 by 0.01) flagging at most `max_fp` of the negatives,
    1.01 (never) if none does."""
    for t in np.round(np.arange(0.05, 1.0, 0.01), 2):
        if (neg >= t).mean() <= max_fp:
            return float(t)
    return 1.01


def _threshold(proba: np.ndarray, y: np.ndarray, cls: str, classes: list[str], max_fp: float) -> float:
    j = classes.index(cls)
    neg = proba[y != cls, j] if cls == "crisis" else proba[y == "on_topic", j]
    t = lowest_threshold(neg, max_fp)
    return t if (proba[y == cls, j] >= t).any() else 1.01


def train(engine, items, c: float = 4.0) -> tuple[SafetyModel, dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    texts, labels = examples(engine, items)
    X = engine.encoder.encode(texts)
    y = np.array(labels)
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    cv = cross_val_predict(lr, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba")
    classes = sorted(set(labels))
    thresholds = {k: _threshold(cv, y, k, classes, fp) for k, fp in MAX_FP.items()}
    lr.fit(X, y)
    model = SafetyModel(tuple(lr.classes_), lr.coef_.astype(np.float32), lr.intercept_.astype(np.float32), thresholds, engine.encoder.model_id)
    report = {k: {"threshold": t, "cv_recall": round(float((cv[y == k, classes.index(k)] >= t).mean()), 4)} for k, t in thresholds.items()}
    return model, {"n_examples": len(texts), "C": c, "cv": report}
