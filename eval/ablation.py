"""`python -m eval ablation SET.jsonl [--split S]`: retrieval modes with and without history handling.

Runs the set in-process once per configuration (dense, BM25, hybrid; follow-up history on or off;
the default without reordering passages by their best sentence, and without reading what the
previous reply quoted) with the same engine otherwise,
and prints a Markdown table of the retrieval and answer metrics.
"""

from __future__ import annotations

import sys

from eval.metrics import compute
from eval.runner import InProcess, run_items

METRICS = ["retrieval_recall@1", "retrieval_recall@3", "mrr", "grounded_answer_rate", "evidence_in_answer_rate", "outcome_accuracy"]


# (name, retrieval settings): every mode with history off and on, and the default without the
# reordering of passages by their best sentence, and without reading the previous reply
CONFIGS = [(f"{mode}, history {'on' if history else 'off'}", {"mode": mode, "use_history": history})
           for mode in ("dense", "bm25", "hybrid") for history in (False, True)]
CONFIGS.append(("hybrid, history on, fused order (passages not reordered by their best sentence)",
                {"mode": "hybrid", "use_history": True, "rerank_passages": 0}))
CONFIGS.append(("hybrid, history on, previous reply not read (follow-ups ranked without what it quoted)",
                {"mode": "hybrid", "use_history": True, "read_previous_reply": False}))


def ablation(engine, items) -> list[tuple[str, dict]]:
    rows = []
    base = engine.settings
    try:
        for name, update in CONFIGS:
            engine.settings = base.model_copy(update={"retrieval": base.retrieval.model_copy(update=update)})
            results = run_items(items, InProcess(engine))
            followups = [r for r in results if r.get("history")]
            m = compute(results)
            m["followup_evidence_in_answer_rate"] = compute(followups)["evidence_in_answer_rate"] if followups else None
            rows.append((name, m))
            print(f"  done: {name}", file=sys.stderr)
    finally:
        engine.settings = base
    return rows


def table(rows: list[tuple[str, dict]]) -> str:
    cols = METRICS + ["followup_evidence_in_answer_rate"]
    out = ["| configuration | " + " | ".join(cols) + " |", "| --- |" + " --- |" * len(cols)]
    out += [f"| {name} | " + " | ".join("–" if m[c] is None else f"{m[c]:.3f}" for c in cols) + " |" for name, m in rows]
    return "\n".join(out) + "\n"
