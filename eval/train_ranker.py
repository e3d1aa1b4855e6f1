"""Training the sentence ranker of `app/compose.py` on labelled sets (tune split only).

For every answerable question the engine retrieves as it does for a user, and scores the quotable
units of the best passages; a unit is a positive when it contains one of the question's evidence
strings. A pairwise logistic regression over `compose.FEATURES`, and over the elementwise product
of unit and question vectors (a learned weight per embedding dimension), learns to put an answering
unit above the others of the same question. Leave-one-set-out runs (each set ranked by a ranker
fitted on the others) chose the regularisation; the README has the table. The margin for extra
quotes is chosen so that, on the training questions, as many candidates come within it of the best
as within the hand-set margin, which keeps replies as long as they were.
"""

from __future__ import annotations

import numpy as np

from app.compose import FEATURES, HAND_SET, Ranker, candidates
from eval.textmatch import contains

Group = tuple  # (features, labels, hand-set scores[, agreement]) of one question's candidate units
Question = tuple  # (features, agreement, owning hit of each unit, relevant hits) for the reordering


def collect(engine, items) -> tuple[list[Group], list[Question]]:
    """One retrieval per answerable question, as the engine does it for a user, gives both what
    the ranker learns from and what the reordering of passages is measured on.

    Groups (questions with a positive among the candidates of the first `candidate_passages`
    fused hits): features, labels, the hand-set scores (for comparison) and the units' agreement
    with the question (the elementwise product the per-dimension weights apply to). Questions
    (every answerable one): the features and agreement of the units of the hits the engine's
    ranker reads (`Engine.rerank_pool`), the hit each unit belongs to, and which hits hold an
    evidence string. The candidates are the engine's, without the units it never quotes (dose numbers)."""
    r = engine.settings.retrieval
    groups, questions = [], []
    for it in items:
        if it.expect != "answer" or not it.evidence:
            continue
        _, turns, queries, dense = engine.prepare(it.question, [t.model_dump() for t in it.history])
        vecs = engine.encoder.encode(dense)
        said = engine.said_before(turns, queries)
        hits, stems = engine.retrieve(queries, dense, vecs, said)
        hits = engine.rerank_pool(hits, said)
        found, matrix, agreement = candidates(engine.index, hits, list(vecs), stems, len(hits), said)
        at = {engine.index.position[h.passage.passage_id]: i for i, h in enumerate(hits)}
        owner = np.array([at[pi] for pi, _, _, _ in found], dtype=np.int64)
        questions.append((matrix, agreement, owner, np.array([any(contains(h.passage.text, e) for e in it.evidence) for h in hits], dtype=bool)))
        top = owner < r.candidate_passages
        y = np.array([any(contains(text, e) for e in it.evidence) for (_, _, text, _), t in zip(found, top) if t], dtype=bool)
        if y.any():
            groups.append((matrix[top], y, HAND_SET.scores(matrix[top]), agreement[top]))
    return groups, questions


def _inputs(group: Group) -> np.ndarray:
    """What the ranker reads of a group's units: the features, then the agreement if there is one."""
    return group[0] if len(group) < 4 else np.hstack([group[0], group[3]])


def scores(ranker: Ranker, group: Group) -> np.ndarray:
    return ranker.scores(group[0], group[3] if len(group) > 3 else None)


def top1(groups, scores) -> float:
    """Share of questions whose best-scored unit answers."""
    return float(np.mean([g[1][int(np.argmax(s))] for g, s in zip(groups, scores)]))


def _within(groups, scores, margin: float, cap: int = 4) -> float:
    """Mean number of units scoring within `margin` of the best (at most `cap`, the reply's limit)."""
    return float(np.mean([min(cap, int((s >= s.max() - margin).sum())) for s in scores]))


def _pairs(groups, max_negatives: int = 30) -> np.ndarray:
    """Input differences (answering unit minus another unit of the same question)."""
    diffs = []
    for g in groups:
        X, y = _inputs(g), g[1]
        diffs.extend(p - n for p in X[y] for n in X[~y][:max_negatives])
    return np.array(diffs)


def fit(groups, c: float = 0.01) -> tuple[Ranker, dict]:
    """Pairwise logistic regression: within a question, the answering unit should outscore the
    others (learning to rank, not to classify units across questions). Inputs are scaled to a
    common size first, so one `c` regularises the few features and the many dimensions alike."""
    from sklearn.linear_model import LogisticRegression

    d = _pairs(groups)
    scale = np.abs(d).mean(axis=0) + 1e-9
    lr = LogisticRegression(C=c, fit_intercept=False, max_iter=5000).fit(np.vstack([d / scale, -d / scale]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    w = lr.coef_[0].astype(np.float64) / scale
    coef, metric = w[: len(FEATURES)], (w[len(FEATURES):].astype(np.float32) if w.shape[0] > len(FEATURES) else None)
    ranker = Ranker(coef, 0.0, 0.0, metric)
    ranked = [scores(ranker, g) for g in groups]
    target = _within(groups, [g[2] for g in groups], HAND_SET.margin)
    spread = max(float(s.max() - s.min()) for s in ranked)  # the scale of a learned score is its own
    margins = np.unique(np.round(np.linspace(0.0, spread, 1000)[1:], 3))
    margin = float(min(margins, key=lambda m: abs(_within(groups, ranked, m) - target)))
    ranker = Ranker(coef, 0.0, margin, metric)
    return ranker, {"n_questions": len(groups), "n_pairs": int(len(d)), "C": c, "features": list(FEATURES),
                    "coef": [round(float(x), 4) for x in coef], "per_dimension_weights": 0 if metric is None else int(metric.shape[0]),
                    "margin": margin, "top1_training": round(top1(groups, ranked), 4), "top1_hand_set": round(top1(groups, [g[2] for g in groups]), 4)}


def in_reply(groups, ranked, margin: float, cap: int = 4) -> float:
    """Share of questions with an answering unit among the ones that would be quoted: the best
    and those within `margin` of it, at most `cap` (word budget and duplicates aside)."""
    hits = []
    for g, s in zip(groups, ranked):
        order = np.argsort(-s, kind="stable")[: min(cap, int((s >= s.max() - margin).sum()))]
        hits.append(bool(g[1][order].any()))
    return float(np.mean(hits))


def reordered_ranks(ranker: Ranker, question) -> tuple[int, int]:
    """(rank of the first relevant hit in fused order, and after reordering by the best unit);
    0 when no retrieved hit is relevant."""
    matrix, agreement, owner, relevant = question
    best = np.full(len(relevant), -np.inf)
    if len(owner):
        np.maximum.at(best, owner, ranker.scores(matrix, agreement))
    first = lambda order: next((i + 1 for i, j in enumerate(order) if relevant[j]), 0)  # noqa: E731
    return first(range(len(relevant))), first(np.argsort(-best, kind="stable"))


def _recall_mrr(ranks: list[int], k: int = 3) -> tuple[float, float]:
    r = np.array(ranks)
    return float(np.mean((r > 0) & (r <= k))), float(np.mean(np.where(r > 0, 1.0 / np.maximum(r, 1), 0.0)))


def leave_one_set_out(sets: dict[str, list], c: float = 0.01, passages: dict[str, list] | None = None) -> dict[str, dict]:
    """For each set: a ranker fitted on the others, against the hand-set score, by top-1 and by
    whether an answering unit is among those that would be quoted; with `passages` (the questions
    of `collect`), also recall@3 and MRR of the fused order against the reordered one."""
    out = {}
    for held, groups in sets.items():
        ranker, _ = fit([g for n, gs in sets.items() if n != held for g in gs], c)
        hand, learned = [g[2] for g in groups], [scores(ranker, g) for g in groups]
        out[held] = {"questions": len(groups), "hand_set": round(top1(groups, hand), 3), "learned": round(top1(groups, learned), 3),
                     "hand_set_in_reply": round(in_reply(groups, hand, HAND_SET.margin), 3),
                     "learned_in_reply": round(in_reply(groups, learned, ranker.margin), 3)}
        if passages is not None:
            ranks = [reordered_ranks(ranker, q) for q in passages[held]]
            (r_f, m_f), (r_r, m_r) = _recall_mrr([a for a, _ in ranks]), _recall_mrr([b for _, b in ranks])
            out[held].update(answerable=len(ranks), recall3_fused=round(r_f, 3), recall3_reordered=round(r_r, 3),
                             mrr_fused=round(m_f, 3), mrr_reordered=round(m_r, 3))
    return out
