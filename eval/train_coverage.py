"""Training the coverage model of `app/classifier.py`: does the knowledge base answer this question?

Answerable questions (`expect: answer`) against on-topic questions the sources do not cover
(`expect: not_in_sources`), tune split only. Each question is read the way the engine reads it: on
its own, or for a follow-up as the mean of its embedding alone and with the previous user turn
(`app.engine.coverage_vector`). Logistic regression over the query
embedding and, beside it, the retrieval signals of `app.coverage.SIGNALS` (the engine answers each
question with its thresholds and classifiers switched off, as `eval calibrate` does, and what it
shows its coverage model is recorded), standardised, classes balanced. The threshold is chosen on 5-fold
cross-validated probabilities as the lowest one that wrongly abstains on at most `max_wrong` of the
answerable questions. The model is tied to the passages it was trained against (their hash is
stored with it).
"""

from __future__ import annotations

import numpy as np

from app.classifier import SafetyModel, Signals
from app.coverage import SIGNALS
from eval.calibrate import thresholds_off
from eval.train_safety import lowest_threshold


class _Recorder:
    """Stands in for the coverage model while collecting: keeps the vector and signals the engine
    shows it (so training reads the numbers the model reads at run time) and flags nothing."""

    seen: tuple[np.ndarray, dict[str, float]] | None = None

    def flags(self, vec: np.ndarray, text: str = "", signals: dict[str, float] | None = None) -> dict[str, float]:
        self.seen = (np.asarray(vec, dtype=np.float32).reshape(-1), dict(signals or {}))
        return {}


def features(engine, items) -> tuple[np.ndarray, list[dict[str, float]], np.ndarray]:
    """(the question embeddings, their retrieval signals, their labels), as the engine computes them
    for its coverage model, with thresholds and classifiers off (`eval.calibrate.thresholds_off`).
    A question the patterns alone decide (a crisis signal, say) never reaches the model and is left out."""
    recorder = _Recorder()
    vectors, values, labels = [], [], []
    with thresholds_off(engine, coverage=recorder):
        for it in items:
            if it.expect not in ("answer", "not_in_sources"):
                continue
            recorder.seen = None
            engine.answer(it.question, [t.model_dump() for t in it.history])
            if recorder.seen is None:
                continue
            vector, signals = recorder.seen
            vectors.append(vector)
            values.append(signals)
            labels.append("covered" if it.expect == "answer" else "not_in_sources")
    # the vectors the engine handed over (`app.engine.coverage_vector`), so training reads what the model reads
    return (np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)), values, np.array(labels)


def fit(embeddings: np.ndarray, values: list[dict[str, float]], y: np.ndarray, model_id: str, max_wrong: float = 0.03,
        c: float = 8.0, read_signals: bool = True) -> tuple[SafetyModel, dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if len(set(y)) < 2 or min((y == k).sum() for k in set(y)) < 5:
        raise ValueError("training the coverage model needs at least 5 answerable and 5 not-in-sources questions")
    signals = None
    X = embeddings
    if read_signals:
        raw = np.array([[v[n] for n in SIGNALS] for v in values], dtype=np.float32)
        scale = raw.std(axis=0)
        signals = Signals(SIGNALS, raw.mean(axis=0), np.where(scale > 1e-6, scale, 1.0).astype(np.float32))
        X = np.hstack([embeddings, (raw - signals.mean) / signals.scale])
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    cv = cross_val_predict(lr, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba")[:, 1]
    pos, neg = cv[y == "not_in_sources"], cv[y == "covered"]
    threshold = lowest_threshold(neg, max_wrong)
    lr.fit(X, y)
    # Two rows (0 for "covered") so the shared softmax gives the logistic probability.
    coef = np.vstack([np.zeros_like(lr.coef_[0]), lr.coef_[0]]).astype(np.float32)
    intercept = np.array([0.0, lr.intercept_[0]], dtype=np.float32)
    model = SafetyModel(("covered", "not_in_sources"), coef, intercept, {"not_in_sources": threshold}, model_id, signals=signals)
    curve = [{"threshold": float(t), "abstention_recall": round(float((pos >= t).mean()), 4),
              "wrongly_abstained": round(float((neg >= t).mean()), 4)} for t in np.round(np.arange(0.3, 0.95, 0.05), 2)]
    report = {"n_answerable": int(len(neg)), "n_not_in_sources": int(len(pos)), "C": c, "max_wrong": max_wrong, "threshold": threshold,
              "signals": list(SIGNALS) if read_signals else [],
              "cv_abstention_recall": round(float((pos >= threshold).mean()), 4),
              "cv_wrongly_abstained": round(float((neg >= threshold).mean()), 4), "cv_curve": curve}
    return model, report


def pooled(parts) -> tuple[np.ndarray, list[dict[str, float]], np.ndarray]:
    """Several sets' `features` as one training set."""
    parts = [p for p in parts if len(p[2])]
    if not parts:
        return np.zeros((0, 0), dtype=np.float32), [], np.array([])
    return np.vstack([p[0] for p in parts]), [v for p in parts for v in p[1]], np.concatenate([p[2] for p in parts])


def leave_one_set_out(sets: dict[str, tuple[np.ndarray, list[dict[str, float]], np.ndarray]], max_wrong: float = 0.03,
                      c: float = 8.0) -> dict[str, dict]:
    """Each set's questions judged by coverage models fitted on the other sets (threshold chosen on
    their cross-validated probabilities), reading the embedding alone and with the retrieval
    signals: per set, the share of not-in-sources questions caught and of answerable ones wrongly
    flagged, and the counts behind them."""
    rows: dict[str, dict] = {}
    for name, (emb, values, y) in sets.items():
        e_tr, v_tr, y_tr = pooled(part for k, part in sets.items() if k != name)
        row = {"answerable": int((y == "covered").sum()), "not_in_sources": int((y == "not_in_sources").sum())}
        for key, reads in (("embedding", False), ("with_signals", True)):
            model, _ = fit(e_tr, v_tr, y_tr, "loso", max_wrong, c, reads)
            flagged = np.array([bool(model.flags(e, "", v)) for e, v in zip(emb, values)], dtype=bool)
            row[f"{key}_caught"] = int((flagged & (y == "not_in_sources")).sum())
            row[f"{key}_wrong"] = int((flagged & (y == "covered")).sum())
        rows[name] = row
    return rows
