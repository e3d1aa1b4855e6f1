"""`python -m eval embedders SET... --model PATH [--model PATH...]`: is another embedding model better?

The part of retrieval an embedding model decides, measured alone: every single-turn question that
the sources answer is encoded, the passages of the knowledge base are ranked by cosine similarity,
and the rank of the first passage holding an evidence string gives recall@1, recall@3 and MRR, per
set and over all of them, for the configured model and each model folder given. Encoding speed
(milliseconds per question, encoded one batch at a time) is printed beside it, since a larger
model costs every message. Follow-ups are left out: their search text depends on history handling,
which is the same whatever the model.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from eval.metrics import evidence_rank


def _ranks(encoder, passages, questions: list[tuple[str, str, list[str]]]) -> tuple[dict[str, list[int]], float]:
    pvecs = encoder.encode([p.text for p in passages])
    start = time.perf_counter()
    qvecs = encoder.encode([q for _, q, _ in questions])
    ms = (time.perf_counter() - start) * 1000 / max(1, len(questions))
    out: dict[str, list[int]] = {}
    for (set_name, _, evidence), scores in zip(questions, qvecs @ pvecs.T):
        retrieved = [{"text": passages[i].text} for i in np.argsort(-scores, kind="stable")]
        out.setdefault(set_name, []).append(evidence_rank({"retrieved": retrieved, "evidence": evidence}))
    return out, ms


def _figures(ranks: list[int]) -> str:
    r = np.array(ranks)
    return f"{(r == 1).mean():.3f} | {((r >= 1) & (r <= 3)).mean():.3f} | {np.where(r > 0, 1 / np.maximum(r, 1), 0).mean():.3f}"


def compare(set_paths: list[str], model_paths: list[str], split: str | None = None) -> str:
    from app.settings import load_settings
    from eval.schema import SetError, load_set
    from index.embedder import SentenceEncoder
    from kb.documents import load_documents
    from kb.passages import build_passages

    settings = load_settings()  # the deployment's documents and model, as the engine loads them
    passages = build_passages(load_documents(settings.docs_dir))
    questions = []
    for path in set_paths:
        for item in load_set(path):
            if item.expect == "answer" and not item.history and (split is None or item.extras().get("split") == split):
                questions.append((Path(path).stem, item.question, item.evidence))
    if not questions:
        raise SetError(f"no single-turn answerable questions in {', '.join(set_paths)}")
    # every folder checked before any encoding, so a wrong path fails at once
    encoders = [("configured", SentenceEncoder(settings.model_path))] + [(Path(p).name, SentenceEncoder(p)) for p in model_paths]
    results = []
    for name, encoder in encoders:
        ranks, ms = _ranks(encoder, passages, questions)
        results.append((name, ranks, ms))
        print(f"  done: {name} ({ms:.1f} ms per question)", file=sys.stderr)
    sets = list(results[0][1])
    head = "| set | questions | " + " | ".join(f"{name} r@1 | r@3 | MRR" for name, _, _ in results) + " |"
    lines = [head, "| --- | --- |" + " --- | --- | --- |" * len(results)]
    for s in [*sets, "all"]:
        rows = [[r for x in sets for r in ranks[x]] if s == "all" else ranks[s] for _, ranks, _ in results]
        lines.append(f"| {s} | {len(rows[0])} | " + " | ".join(_figures(r) for r in rows) + " |")
    speed = ", ".join(f"{name} {ms:.1f} ms" for name, _, ms in results)
    return (f"{len(questions)} single-turn answerable questions, {len(passages)} passages; encoding per question: {speed}\n\n"
            + "\n".join(lines) + "\n")
