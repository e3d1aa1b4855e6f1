"""Calibrating the engine's thresholds on labelled questions, with the trade-off curve reported.

Runs the engine with its thresholds switched off, records each reply's signals (best sentence
similarity, coverage gaps, best passage similarity, on-topic words), then sweeps:
- `answer_threshold` and `gap_answer_threshold`: abstain (not_in_sources) when the best sentence is
  below the first, or the question has a coverage gap and the best sentence is below the second.
  Chosen to maximise abstention accuracy while wrongly abstaining on at most `max_wrong` of the
  answerable questions (a missed answer is a visible failure; a wrong answer is a quoted, cited
  sentence the reader can judge).
- `topic_threshold`: a message without on-topic words is out of scope when no passage is closer
  than this; chosen so that at most `max_wrong` of on-topic questions are pushed out of scope.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    expect: str
    confidence: float
    gaps: bool
    topic_similarity: float
    has_topic: bool


@contextmanager
def thresholds_off(engine, coverage=None):
    """The engine with its abstention and topic thresholds and its safety classifier switched off,
    and `coverage` (default: none) in place of its coverage model, restored on exit: every on-topic
    question reaches retrieval, and no model reads the tune items it was trained on (their in-sample
    flags would flatter any joint choice)."""
    saved = engine.calibration, engine.safety, engine.coverage
    engine.calibration = {**saved[0], "answer_threshold": -2.0, "gap_answer_threshold": -2.0, "topic_threshold": -2.0}
    engine.safety, engine.coverage = None, coverage
    try:
        yield engine
    finally:
        engine.calibration, engine.safety, engine.coverage = saved


def collect(engine, items) -> list[Point]:
    points = []
    with thresholds_off(engine):  # the similarity fallback must work on its own, whatever the classifiers catch
        for it in items:
            reply = engine.answer(it.question, [t.model_dump() for t in it.history])
            if reply.confidence is not None:
                points.append(Point(it.expect, reply.confidence, bool(reply.gaps), reply.topic_similarity or 0.0, bool(reply.has_topic)))
    return points


def _grid(lo: float, hi: float, step: float) -> list[float]:
    return [round(lo + i * step, 3) for i in range(int(round((hi - lo) / step)) + 1)]


def abstention_curve(points: list[Point]) -> list[dict]:
    answerable = [p for p in points if p.expect == "answer"]
    missing = [p for p in points if p.expect == "not_in_sources"]
    rows = []
    for a in _grid(0.0, 0.9, 0.02):
        for g in _grid(a, 1.2, 0.05):
            abstains = lambda p: p.confidence < a or (p.gaps and p.confidence < g)  # noqa: E731
            rows.append({"answer_threshold": a, "gap_answer_threshold": g,
                         "abstention_accuracy": round(sum(map(abstains, missing)) / max(1, len(missing)), 4),
                         "wrong_abstention_rate": round(sum(map(abstains, answerable)) / max(1, len(answerable)), 4)})
    return rows


def topic_curve(points: list[Point]) -> list[dict]:
    off = [p for p in points if p.expect == "out_of_scope" and not p.has_topic]
    on = [p for p in points if p.expect in ("answer", "not_in_sources") and not p.has_topic]
    return [{"topic_threshold": t,
             "out_of_scope_caught": round(sum(p.topic_similarity < t for p in off) / max(1, len(off)), 4),
             "on_topic_pushed_out": round(sum(p.topic_similarity < t for p in on) / max(1, len(on)), 4),
             "n_off": len(off), "n_on_without_topic_words": len(on)} for t in _grid(0.0, 0.6, 0.02)]


def choose(rows: list[dict], good: str, bad: str, max_bad: float) -> dict:
    ok = [r for r in rows if r[bad] <= max_bad]
    return max(ok, key=lambda r: (r[good], -r[bad])) if ok else min(rows, key=lambda r: r[bad])


def calibrate(engine, items, max_wrong: float = 0.03) -> dict:
    points = collect(engine, items)
    ab = abstention_curve(points)
    tp = topic_curve(points)
    a = choose(ab, "abstention_accuracy", "wrong_abstention_rate", max_wrong)
    t = choose(tp, "out_of_scope_caught", "on_topic_pushed_out", max_wrong)
    return {"answer_threshold": a["answer_threshold"], "gap_answer_threshold": a["gap_answer_threshold"],
            "topic_threshold": t["topic_threshold"], "related_floor": engine.calibration.get("related_floor", 0.25),
            "chosen": {"abstention": a, "topic": t}, "n_points": len(points), "max_wrong": max_wrong,
            "curve": {"abstention": [r for r in ab if r["gap_answer_threshold"] in (r["answer_threshold"], 0.5, 0.6)], "topic": tp}}


def dump(result: dict) -> str:
    return json.dumps(result, indent=2, sort_keys=True) + "\n"
