"""`python -m eval bench --out DIR [--quick]`: performance figures, each a median of repeated runs in
one process, written to bench.json and bench.md. Never a pass/fail test: machines are shared.

Sections: the 500-question runner; per-stage time of one question against the bare model.encode
floor (the headline ratio); the safety classifier's own cost; what micro-batching can buy (the
encoder's batching gain, and the ceiling it puts on the load test's throughput ratio); cold start
(process start to /healthz and to the first answer). API load lives in `eval/load.py` (`make load`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3) if xs else float("nan")


def _p(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(q / 100 * len(s)))], 3) if s else float("nan")


def questions(n: int) -> list:
    from eval.schema import load_set

    items = load_set(ROOT / "eval/sets/dev.jsonl") + load_set(ROOT / "eval/sets/safety.jsonl")
    return [items[i % len(items)] for i in range(n)]


def bench_runner(engine, n: int = 500) -> dict:
    from eval.runner import InProcess, run_items

    items = questions(n)
    t0 = time.perf_counter()
    run_items(items, InProcess(engine))
    total = time.perf_counter() - t0
    return {"questions": n, "seconds": round(total, 2), "per_question_ms": round(1000 * total / n, 2)}


def bench_stages(engine, repeats: int = 5, n: int = 60) -> dict:
    """Median per stage over `repeats` passes of `n` answerable questions, beside a bare encode.
    Message-level caches are emptied before each answer, so a repeat is measured as a new question."""
    from app.engine import forget_messages

    items = [i for i in questions(400) if i.expect == "answer"][:n]
    stages: dict[str, list[float]] = {}
    floor: list[float] = []
    for _ in range(repeats):
        for it in items:
            h = [t.model_dump() for t in it.history]
            forget_messages()
            reply = engine.answer(it.question, h)
            for name, ms in reply.timings_ms:
                stages.setdefault(name, []).append(ms)
            t0 = time.perf_counter()
            engine.encoder.encode([it.question])
            floor.append((time.perf_counter() - t0) * 1000)
    out = {f"{k}_ms_p50": _median(v) for k, v in stages.items()}
    out["bare_encode_ms_p50"] = _median(floor)
    out["whole_over_floor"] = round(out["total_ms_p50"] / out["bare_encode_ms_p50"], 3)
    return out


def bench_classifier(engine, repeats: int = 5) -> dict:
    """The policy decision given the vector the engine already computed: what safety adds."""
    from app.policy import classify

    items = questions(420)
    texts = [engine.dense_text(i.question) for i in items]
    vecs = engine.encoder.encode(texts)
    times = []
    for _ in range(repeats):
        for it, v, text in zip(items, vecs, texts):
            h = [t.model_dump() for t in it.history]
            t0 = time.perf_counter()
            flags = engine.safety.flags(v, text) if engine.safety else {}
            classify(it.question, h, engine.topic_words, flags)
            times.append((time.perf_counter() - t0) * 1000)
    return {"messages": len(items), "classify_ms_p50": _median(times), "classify_ms_p95": _p(times, 95)}


def bench_batching(engine, requests: int = 320, batch: int = 32, repeats: int = 3) -> dict:
    """What micro-batching can buy on this machine, on the load test's own messages: the whole
    answer of a lone message, its model time alone, and its share of one model call that `batch`
    messages make together. Under load the model is the bottleneck, so whole-alone over
    batched-share bounds the throughput ratio of many clients over one client (`eval load`): above
    it, everything else in a request would have to cost less than nothing."""
    from app.engine import forget_messages
    from eval.load import workload

    bodies = workload()[:requests]
    texts = [engine.prepare(b["message"], b["history"])[3] for b in bodies]
    whole, alone, shared = [], [], []
    for _ in range(repeats):
        for b, ts in zip(bodies, texts):
            forget_messages()
            t0 = time.perf_counter()
            engine.answer(b["message"], b["history"])
            whole.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            engine.encoder.encode(ts)
            alone.append((time.perf_counter() - t0) * 1000)
        for i in range(0, len(texts) - batch + 1, batch):
            group = [t for ts in texts[i : i + batch] for t in ts]
            t0 = time.perf_counter()
            engine.encoder.encode(group)
            shared.append((time.perf_counter() - t0) * 1000 / batch)
    out = {"messages": len(bodies), "texts_per_message": round(sum(map(len, texts)) / len(texts), 2), "batch": batch,
           "whole_answer_alone_ms_p50": _median(whole), "encode_alone_ms_p50": _median(alone),
           "encode_share_in_batch_ms_p50": _median(shared)}
    out["encoder_batching_gain"] = round(out["encode_alone_ms_p50"] / out["encode_share_in_batch_ms_p50"], 2)
    out["ceiling_throughput_ratio"] = round(out["whole_answer_alone_ms_p50"] / out["encode_share_in_batch_ms_p50"], 2)
    return out


def bench_cold_start() -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "from app.engine import Engine; from app.settings import load_settings; "
                    "Engine.load(load_settings()).answer('how is ketamine given?')"], cwd=ROOT, env=env, check=True)
    first_answer = time.perf_counter() - t0
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    health = None
    try:
        while time.perf_counter() - t0 < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        health = time.perf_counter() - t0
                        break
            except Exception:
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(10)
    return {"process_to_first_answer_s": round(first_answer, 2), "process_to_healthz_200_s": round(health, 2) if health else None}


def main(args) -> int:
    from app.engine import Engine
    from app.settings import load_settings

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    engine = Engine.load(load_settings())
    engine.answer("warm-up question about ketamine", [])
    report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "when": time.strftime("%Y-%m-%d %H:%M:%S")}
    print("runner (500 questions)...", file=sys.stderr)
    report["runner"] = bench_runner(engine, 500)
    print("stages...", file=sys.stderr)
    report["stages"] = bench_stages(engine, 2 if args.quick else 5)
    report["classifier"] = bench_classifier(engine, 2 if args.quick else 5)
    print("batching...", file=sys.stderr)
    report["batching"] = bench_batching(engine, repeats=1 if args.quick else 3)
    print("cold start...", file=sys.stderr)
    report["cold_start"] = bench_cold_start()
    report["scaling"] = bench_scaling([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["# Benchmark", "", f"Machine: {report['machine']}, {report['when']}", ""]
    for section, values in report.items():
        if isinstance(values, dict) and section != "machine":
            lines += [f"## {section}", ""] + [f"- {k}: {v}" for k, v in values.items()] + [""]
    lines += ["## scaling (synthetic clustered vectors, 384-d)", "", "| passages | index | build s | index MB | query p50 ms | query p95 ms | recall@10 vs exact |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['passages']:,} | {r['index_type']}{' nprobe=' + str(r['nprobe']) if 'nprobe' in r else ''} | {r['build_s']} | {r['index_mb']} | "
              f"{r['query_ms_p50']} | {r['query_ms_p95']} | {r['recall_at_10_vs_exact']} |" for r in report["scaling"]]
    (out / "bench.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


def synthetic(n: int, d: int = 384, clusters: int = 2000, seed: int = 0) -> np.ndarray:
    """Unit vectors around random cluster centres: text embeddings cluster by topic; uniform
    random vectors would be an unrealistically hard case for any approximate index."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, d), dtype=np.float32)
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        x = centres[rng.integers(0, clusters, m)] + rng.normal(0, 0.5 / np.sqrt(d), (m, d)).astype(np.float32)
        out[i : i + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def bench_scaling(sizes: list[int]) -> list[dict]:
    import faiss

    from index.ann import build, exact_top, recall_at

    rows = []
    for n in sizes:
        print(f"  scaling: {n:,} synthetic vectors...", file=sys.stderr, flush=True)
        vecs = synthetic(n)
        t0 = time.perf_counter()
        idx, info = build(vecs)
        build_s = time.perf_counter() - t0
        rng = np.random.default_rng(1)
        q = vecs[rng.choice(n, 200, replace=False)] + rng.normal(0, 0.02, (200, vecs.shape[1])).astype(np.float32)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        times = []
        for row in q:
            t1 = time.perf_counter()
            idx.search(row.reshape(1, -1), 10)
            times.append((time.perf_counter() - t1) * 1000)
        rows.append({"passages": n, **info, "build_s": round(build_s, 2),
                     "index_mb": round(len(faiss.serialize_index(idx)) / 2**20, 1),
                     "query_ms_p50": _median(times), "query_ms_p95": _p(times, 95),
                     "recall_at_10_vs_exact": round(recall_at(idx, vecs, q, truth=exact_top(vecs, q)), 4)})
        print(f"    {rows[-1]}", file=sys.stderr, flush=True)
        del vecs, idx
    return rows
