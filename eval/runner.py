"""Running a question set through the product and writing the run folder.

An `Answerer` is anything with `answer(question, history) -> dict` in the HTTP API's shape: the
in-process engine (wrapped) or the HTTP client. Results are written to a temporary folder that is
renamed into place only when complete, so a half-finished run never looks like a finished one.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Protocol

from eval.metrics import summarize
from eval.schema import Item

VERSION = "0.1.0"


class Answerer(Protocol):
    def answer(self, question: str, history: list[dict]) -> dict: ...
    def describe(self) -> dict: ...


class InProcess:
    """The engine itself, as users get it through the UI or API (same `Engine.answer` call)."""

    def __init__(self, engine):
        self.engine = engine

    def answer(self, question: str, history: list[dict]) -> dict:
        from app.records import BadInput

        try:
            return self.engine.answer(question, history).to_dict()
        except BadInput as exc:
            return {"kind": "input_error", "answer": str(exc), "citations": [], "retrieved": []}

    def describe(self) -> dict:
        s, m = self.engine.settings, self.engine.index.manifest
        return {"mode": "in-process", "model": m.model_id, "index_type": m.index_type, "passages": m.n_passages,
                "retrieval_mode": s.retrieval.mode, "k": s.retrieval.top_k, "calibration": self.engine.calibration}


def result_record(item: Item, reply: dict, latency_ms: float) -> dict:
    rec = {
        "id": item.id,
        "expect": item.expect,
        "kind": reply.get("kind"),
        "answer": reply.get("answer", ""),
        "citations": [{k: c.get(k) for k in ("doc_id", "title", "passage_id", "text")} for c in reply.get("citations", [])],
        "retrieved": [{k: h.get(k) for k in ("passage_id", "score", "text")} for h in reply.get("retrieved", [])],
        "searched_for": reply.get("searched_for", ""),
        "reason": reply.get("reason", ""),
        "latency_ms": round(latency_ms, 3),
        "question": item.question,
        "history": [t.model_dump() for t in item.history],
        "evidence": item.evidence,
        "answer_keywords": item.answer_keywords,
    }
    for k, v in item.extras().items():
        rec.setdefault(k, v)
    return rec


def run_items(items: list[Item], answerer: Answerer, progress: Callable[[int, int], None] | None = None) -> list[dict]:
    results = []
    for n, item in enumerate(items, start=1):
        t0 = time.perf_counter()
        reply = answerer.answer(item.question, [t.model_dump() for t in item.history])
        results.append(result_record(item, reply, (time.perf_counter() - t0) * 1000))
        if progress:
            progress(n, len(items))
    return results


def write_run(out: Path, results: list[dict], summary: dict, extra_files: dict[str, str] | None = None) -> None:
    out = Path(out)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with open(tmp / "results.jsonl", "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, text in (extra_files or {}).items():
        (tmp / name).write_text(text, encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)


def build_summary(results: list[dict], config: dict, set_path: str) -> dict:
    s = summarize(results)
    s["config"] = config
    s["set"] = set_path
    s["version"] = VERSION
    return s


def progress_bar(stream=sys.stderr) -> Callable[[int, int], None]:
    start = time.perf_counter()

    tty = stream.isatty()

    def show(n: int, total: int) -> None:
        # a live counter on a terminal; a line every quarter in logs (CI), not thousands of \r
        if n == total or n % max(1, total // (40 if tty else 4)) == 0:
            rate = n / max(time.perf_counter() - start, 1e-9)
            stream.write(f"{chr(13) if tty else ''}  {n}/{total} questions  ({rate:.1f}/s){'' if tty and n < total else chr(10)}")
            stream.flush()

    return show
