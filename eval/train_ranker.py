"""Training the sentence ranker of `app/compose.py` on labelled sets (tune split only).

For every answerable question the engine retrieves as it does for a user, and scores the quotable
units of the best passages; a unit is a positive when it contains one of the question's evidence
strings. A pairwise logistic regression over `compose.FEATURES` learns to put an answering unit
above the others of the same question. The margin for extra quotes is chosen so that, on the
training questions, as many candidates come within it of the best as within the hand-set margin,
which keeps replies as long as they were.
"""

from __future__ import annotations

import numpy as np

from app.compose import FEATURES, HAND_SET, Ranker
from eval.textmatch import contains


def collect(engine, items) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per answerable question with a positive among its candidates: features, labels, and the
    hand-set scores (for comparison)."""
    out = []
    for it in items:
        if it.expect != "answer" or not it.evidence:
            continue
        _, _, queries, dense = engine.prepare(it.question, [t.model_dump() for t in it.history])
        vecs = engine.encoder.encode(dense)
        hits, stems = engine.retrieve(queries, dense, vecs)
        units = engine.units(hits, vecs, stems)
        y = np.array([any(contains(u.text, e) for e in it.evidence) for u in units], dtype=bool)
        if y.any():
            out.append((np.array([u.features for u in units]), y, np.array([u.score for u in units])))
    return out


def top1(groups, scores) -> float:
    """Share of questions whose best-scored unit answers."""
    return float(np.mean([y[int(np.argmax(s))] for (_, y, _), s in zip(groups, scores)]))


def _within(groups, scores, margin: float, cap: int = 4) -> float:
    """Mean number of units scoring within `margin` of the best (at most `cap`, the reply's limit)."""
    return float(np.mean([min(cap, int((s >= s.max() - margin).sum())) for s in scores]))


def _pairs(groups, max_negatives: int = 30) -> np.ndarray:
    """Feature differences (answering unit minus another unit of the same question)."""
    diffs = [p - n for X, y, _ in groups for p in X[y] for n in X[~y][:max_negatives]]
    return np.array(diffs)


def fit(groups, c: float = 0.1) -> tuple[Ranker, dict]:
    """Pairwise logistic regression: within a question, the answering unit should outscore the
    others (learning to rank, not to classify units across questions)."""
    from sklearn.linear_model import LogisticRegression

    d = _pairs(groups)
    lr = LogisticRegression(C=c, fit_intercept=False, max_iter=5000).fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    coef = lr.coef_[0].astype(np.float64)
    scores = [g[0] @ coef for g in groups]
    target = _within(groups, [g[2] for g in groups], HAND_SET.margin)
    margins = np.round(np.arange(0.02, 3.0, 0.02), 2)
    margin = float(min(margins, key=lambda m: abs(_within(groups, scores, m) - target)))
    ranker = Ranker(coef, 0.0, margin)
    return ranker, {"n_questions": len(groups), "n_pairs": int(len(d)), "C": c, "features": list(FEATURES),
                    "coef": [round(float(x), 4) for x in coef], "margin": margin,
                    "top1_training": round(top1(groups, scores), 4), "top1_hand_set": round(top1(groups, [g[2] for g in groups]), 4)}


def leave_one_set_out(sets: dict[str, list], c: float = 0.1) -> dict[str, dict]:
    """For each set: a ranker fitted on the others, against the hand-set score, by top-1."""
    out = {}
    for held, groups in sets.items():
        ranker, _ = fit([g for n, gs in sets.items() if n != held for g in gs], c)
        out[held] = {"questions": len(groups), "hand_set": round(top1(groups, [g[2] for g in groups]), 3),
                     "learned": round(top1(groups, [ranker.scores(g[0]) for g in groups]), 3)}
    return out
