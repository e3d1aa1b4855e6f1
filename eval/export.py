"""`python -m eval export SET.jsonl --format beir|ragas DIR`: the set in other tools' formats.

- beir: `corpus.jsonl` (the passages), `queries.jsonl` (the answerable questions) and
  `qrels/test.tsv` (query-id, corpus-id, score 1 for each passage that holds an evidence string).
- ragas: `dataset.jsonl` with `user_input`, `reference` (the evidence), `reference_contexts` (the
  passages that hold it) and our `expect`, for answerable and abstention items alike.
Follow-ups are exported with the previous user turn prepended, since neither format has history.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.schema import Item
from eval.textmatch import contains


def _question(item: Item) -> str:
    prev = [t.content for t in item.history if t.role == "user"]
    return f"{prev[-1]} {item.question}" if prev else item.question


def _relevant(item: Item, passages) -> list:
    return [p for p in passages if any(contains(p.text, e) for e in item.evidence)]


def export(items: list[Item], passages, fmt: str, out: Path) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "beir":
        (out / "qrels").mkdir(exist_ok=True)
        with open(out / "corpus.jsonl", "w", encoding="utf-8") as f:
            for p in passages:
                f.write(json.dumps({"_id": p.passage_id, "title": p.title, "text": p.text}, ensure_ascii=False) + "\n")
        n = 0
        with open(out / "queries.jsonl", "w", encoding="utf-8") as fq, open(out / "qrels" / "test.tsv", "w", encoding="utf-8") as fr:
            fr.write("query-id\tcorpus-id\tscore\n")
            for it in items:
                rel = _relevant(it, passages) if it.expect == "answer" else []
                if rel:
                    n += 1
                    fq.write(json.dumps({"_id": it.id, "text": _question(it)}, ensure_ascii=False) + "\n")
                    fr.writelines(f"{it.id}\t{p.passage_id}\t1\n" for p in rel)
        return {"format": "beir", "corpus": len(passages), "queries": n}
    if fmt == "ragas":
        with open(out / "dataset.jsonl", "w", encoding="utf-8") as f:
            for it in items:
                f.write(json.dumps({"id": it.id, "user_input": _question(it), "reference": " ".join(it.evidence),
                                    "reference_contexts": [p.text for p in _relevant(it, passages)], "expect": it.expect},
                                   ensure_ascii=False) + "\n")
        return {"format": "ragas", "rows": len(items)}
    raise ValueError(f"unknown export format {fmt!r}; use beir or ragas")
