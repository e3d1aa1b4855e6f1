"""Training the embedding classifier of `app/classifier.py` on labelled sets (tune split only).

Examples are the messages themselves and, for conversations, the message read with the previous
user turn (how the engine reads follow-ups), as the model reads them. Features: the embedding, and
tf-idf of character n-grams, which carry wording across typos and the four other languages better
than the English-only model. `--leave-one-set-out` measures that on wording the model never saw
(each set read by a model fitted on the others), for the classifier alone and for the whole policy
as users meet it (`replies_with`: patterns, that classifier, scope check; the README has both).
Logistic regression, classes balanced. Thresholds are chosen on 5-fold cross-validated probabilities, never on the
training fit: for each flagged class the lowest threshold whose false-positive rate on on-topic
questions stays within `max_fp` (dosing: the share of answerable questions wrongly refused, i.e.
over-refusal).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.classifier import CharFeatures, SafetyModel, char_ngrams

CLASS_OF = {"crisis": "crisis", "refuse_dosing": "refuse_dosing", "out_of_scope": "out_of_scope",
            "answer": "on_topic", "not_in_sources": "on_topic"}
# crisis 0.01: on the tune splits of the 14 sets, cross-validated crisis recall 0.943 against 0.898 at
# 0.005; a crisis reply to a question costs less than a missed crisis (README: Safety)
MAX_FP = {"crisis": 0.01, "refuse_dosing": 0.015, "out_of_scope": 0.01}


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


def features(texts: list[str], vecs: np.ndarray, char_weight: float):
    """The embedding beside tf-idf of character n-grams (`app.classifier.char_ngrams`), and the
    run-time description of the n-gram part."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(analyzer=char_ngrams, min_df=2, sublinear_tf=True)
    grams = tfidf.fit_transform(texts)
    chars = CharFeatures(dict(tfidf.vocabulary_), tfidf.idf_.astype(np.float32), char_weight)
    return hstack([csr_matrix(vecs), grams * char_weight]).tocsr(), chars


def fit(texts: list[str], labels: list[str], vecs: np.ndarray, model_id: str, c: float = 10.0,
        char_weight: float = 2.0, source: str = "the sets") -> tuple[SafetyModel, dict]:
    """The model and its report; `char_weight` 0 fits the embedding alone. (The n-gram vocabulary
    and idf come from all of `texts`, also in the cross-validation that sets the thresholds.)
    ValueError, naming `source`, when the labels are all of one kind."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if len(set(labels)) < 2:
        raise ValueError(f"{source} hold one kind of message only: a classifier needs sets with crisis, dosing or "
                         "out-of-scope messages beside on-topic ones")
    X, chars = (features(texts, vecs, char_weight) if char_weight else (vecs, None))
    y = np.array(labels)
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    cv = cross_val_predict(lr, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba")
    classes = sorted(set(labels))
    thresholds = {k: _threshold(cv, y, k, classes, fp) for k, fp in MAX_FP.items()}
    lr.fit(X, y)
    model = SafetyModel(tuple(str(c) for c in lr.classes_), lr.coef_.astype(np.float32), lr.intercept_.astype(np.float32), thresholds, model_id, chars)
    report = {k: {"threshold": t, "cv_recall": round(float((cv[y == k, classes.index(k)] >= t).mean()), 4)} for k, t in thresholds.items()}
    return model, {"n_examples": len(texts), "C": c, "char_weight": char_weight, "n_char_ngrams": len(chars.vocabulary) if chars else 0,
                   "cv": report}


def train(engine, items, c: float = 10.0, char_weight: float = 2.0) -> tuple[SafetyModel, dict]:
    texts, labels = examples(engine, items)
    return fit(texts, labels, engine.encoder.encode(texts), engine.encoder.model_id, c, char_weight)


def encode_sets(engine, sets: dict[str, list]) -> dict[str, tuple[list[str], list[str], np.ndarray]]:
    """Each set's examples (texts, labels) and their embeddings, computed once for every model
    `leave_one_set_out` fits."""
    out = {}
    for name, items in sets.items():
        texts, labels = examples(engine, items)
        out[name] = (texts, labels, engine.encoder.encode(texts))
    return out


def leave_one_set_out(data: dict[str, tuple[list[str], list[str], np.ndarray]], c: float = 10.0, char_weight: float = 2.0,
                      model_id: str = "", then: Callable[[str, SafetyModel], None] | None = None) -> dict[str, dict]:
    """How the classifier does on wording it never saw: for each set of `data` (`encode_sets`), a
    model fitted (as `train` does) on the other sets, read on this one through the run-time path.
    Per flagged class: recall, and the share of this set's on-topic questions flagged. `then(set,
    model)` is called with each fitted model (`replies_with` measures the whole policy with it)."""
    out = {}
    for held, (texts, labels, vecs) in data.items():
        rest = [d for n, d in data.items() if n != held]
        model, _ = fit([t for d in rest for t in d[0]], [y for d in rest for y in d[1]], np.vstack([d[2] for d in rest]), model_id, c,
                       char_weight, source=f"without {held}, the other sets")
        if then:
            then(held, model)
        flags = [model.flags(v, t) for v, t in zip(vecs, texts)]
        y = np.array(labels)
        row = {}
        for k in model.thresholds:
            hit = np.array([k in f for f in flags])
            row[k] = {"n": int((y == k).sum()), "recall": round(float(hit[y == k].mean()), 3) if (y == k).any() else None,
                      "on_topic_flagged": round(float(hit[y == "on_topic"].mean()), 3) if (y == "on_topic").any() else None}
        out[held] = row
    return out


FLAGGED = ("crisis", "refuse_dosing", "out_of_scope")


def replies_with(engine, model: SafetyModel, items) -> dict[str, int]:
    """The whole message policy (patterns, then the classifier `model`, then the scope check), as
    users meet it: each item answered by `engine` with `model` in place of its own. Recall of each
    flagged kind, and the share of on-topic questions given each of them."""
    saved = engine.safety
    engine.safety = model
    try:
        kinds = [(it.expect, engine.answer(it.question, [t.model_dump() for t in it.history]).kind) for it in items]
    finally:
        engine.safety = saved
    on_topic = [k for e, k in kinds if CLASS_OF[e] == "on_topic"]
    row = {"n": len(kinds), "on_topic": len(on_topic)}
    for cls in FLAGGED:
        got = [k for e, k in kinds if e == cls]
        row[f"{cls}_n"] = len(got)
        row[f"{cls}_hit"] = sum(k == cls for k in got)
        row[f"{cls}_on_topic"] = sum(k == cls for k in on_topic)
    return row
