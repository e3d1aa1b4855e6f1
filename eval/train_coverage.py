"""Training the coverage model of `app/classifier.py`: does the knowledge base answer this question?

Answerable questions (`expect: answer`) against on-topic questions the sources do not cover
(`expect: not_in_sources`), tune split only. Each question is read the way the engine reads it: on
its own, or with the previous user turn when it is a follow-up. Logistic regression over the query
embedding, classes balanced; the threshold is chosen on 5-fold cross-validated probabilities as the
lowest one that wrongly abstains on at most `max_wrong` of the answerable questions. The model is
tied to the passages it was trained against (their hash is stored with it).
"""

from __future__ import annotations

import numpy as np

from app.classifier import SafetyModel
from eval.train_safety import lowest_threshold


def examples(engine, items) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for it in items:
        if it.expect not in ("answer", "not_in_sources"):
            continue
        texts.append(engine.prepare(it.question, [t.model_dump() for t in it.history])[3][-1])  # as the engine reads it
        labels.append("covered" if it.expect == "answer" else "not_in_sources")
    return texts, labels


def train(engine, items, max_wrong: float = 0.03, c: float = 4.0) -> tuple[SafetyModel, dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    texts, labels = examples(engine, items)
    y = np.array(labels)
    if len(set(labels)) < 2 or min((y == k).sum() for k in set(labels)) < 5:
        raise ValueError("training the coverage model needs at least 5 answerable and 5 not-in-sources questions")
    X = engine.encoder.encode(texts)
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    cv = cross_val_predict(lr, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba")[:, 1]
    pos, neg = cv[y == "not_in_sources"], cv[y == "covered"]
    threshold = lowest_threshold(neg, max_wrong)
    lr.fit(X, y)
    # Two rows (0 for "covered") so the shared softmax gives the logistic probability.
    coef = np.vstack([np.zeros_like(lr.coef_[0]), lr.coef_[0]]).astype(np.float32)
    intercept = np.array([0.0, lr.intercept_[0]], dtype=np.float32)
    model = SafetyModel(("covered", "not_in_sources"), coef, intercept, {"not_in_sources": threshold}, engine.encoder.model_id)
    curve = [{"threshold": float(t), "abstention_recall": round(float((pos >= t).mean()), 4),
              "wrongly_abstained": round(float((neg >= t).mean()), 4)} for t in np.round(np.arange(0.3, 0.95, 0.05), 2)]
    report = {"n_answerable": int(len(neg)), "n_not_in_sources": int(len(pos)), "C": c, "max_wrong": max_wrong, "threshold": threshold,
              "cv_abstention_recall": round(float((pos >= threshold).mean()), 4),
              "cv_wrongly_abstained": round(float((neg >= threshold).mean()), 4), "cv_curve": curve}
    return model, report
