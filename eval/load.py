"""`python -m eval load --out DIR [--requests N] [--soak-seconds S]`: a bounded load test of the API.

Starts its own server on 127.0.0.1 (never any other address), then for each concurrency level
(1, 8, 32, 64) sends a fixed number of chat requests from that many client threads and records
throughput, p50/p95/p99 latency and errors; then a soak at 8 clients for a fixed time, sampling the
server's resident memory. Every loop is bounded in count and time and the server is stopped at the
end. The per-client rate limit is raised for the run (all clients share one address).
"""

from __future__ import annotations

import functools
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = ("dev.jsonl", "lay.jsonl", "safety.jsonl")


@functools.lru_cache(maxsize=1)
def workload() -> list[dict]:
    """Request bodies taken from the bundled question sets: every kind of message, lay wording,
    follow-ups with their history. Varied on purpose, so no cache or lucky short query flatters the
    figures; the order is fixed so runs compare."""
    from eval.schema import parse_set

    bodies = []
    for name in SETS:
        path = ROOT / "eval" / "sets" / name
        for item in parse_set(path.read_text(encoding="utf-8").splitlines(), name):
            bodies.append({"message": item.question, "history": [t.model_dump() for t in item.history]})
    return bodies


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start_server(port: int, extra_env: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "KETA_SERVER__RATE_LIMIT": "1000000/minute", "KETA_SERVER__MAX_QUEUE": "256",
           **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "app", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc
        except Exception:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not become healthy within 120 s")


def _client(port: int, jobs: list[int], lat: list[float], errors: list[str], lock: threading.Lock, stop_at: float,
            bodies: list[dict]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.time() < stop_at:
        with lock:
            if not jobs:
                break
            i = jobs.pop()
        body = json.dumps(bodies[i % len(bodies)])
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/chat", body, {"content-type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            ok = resp.status == 200
        except Exception as exc:  # noqa: BLE001 - counted, not raised
            ok, resp = False, None
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        dt = (time.perf_counter() - t0) * 1000
        with lock:
            lat.append(dt)
            if resp is not None and not ok:
                errors.append(str(resp.status))
    conn.close()


def level(port: int, clients: int, requests: int, max_seconds: float = 300) -> dict:
    jobs, lat, errors, lock = list(range(requests))[::-1], [], [], threading.Lock()
    bodies = workload()
    stop_at = time.time() + max_seconds
    threads = [threading.Thread(target=_client, args=(port, jobs, lat, errors, lock, stop_at, bodies)) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    s = sorted(lat)
    pick = lambda q: round(s[min(len(s) - 1, int(q * len(s)))], 1) if s else None  # noqa: E731
    return {"clients": clients, "requests": len(lat), "errors": len(errors), "error_kinds": sorted(set(errors)),
            "throughput_rps": round(len(lat) / wall, 2), "p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99),
            "mean_ms": round(statistics.fmean(s), 1) if s else None}


def soak(port: int, pid: int, seconds: float, clients: int = 8) -> dict:
    samples = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append(round(rss_mb(pid), 1))
            done.wait(5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    result = level(port, clients, requests=10**7, max_seconds=seconds)
    done.set()
    sampler.join()
    warm = samples[len(samples) // 10] if samples else float("nan")  # after warm-up
    return {**result, "seconds": seconds, "rss_mb_start": samples[0] if samples else None, "rss_mb_after_warmup": warm,
            "rss_mb_end": samples[-1] if samples else None, "rss_growth_after_warmup": round(samples[-1] / warm - 1, 4) if samples else None,
            "rss_samples_mb": samples}


def main(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    port = _port()
    proc = start_server(port)
    report = {"machine": {"cpus": os.cpu_count()}, "when": time.strftime("%Y-%m-%d %H:%M:%S"), "levels": []}
    try:
        level(port, 4, 40)  # warm-up, not reported
        for clients in (1, 8, 32, 64):
            r = level(port, clients, args.requests)
            report["levels"].append(r)
            print(f"  {clients:>3} clients: {r['throughput_rps']} req/s, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
                  f"p99 {r['p99_ms']} ms, errors {r['errors']}", flush=True)
        base = report["levels"][0]["throughput_rps"]
        report["throughput_ratio_32_over_1"] = round(report["levels"][2]["throughput_rps"] / base, 2)
        if args.soak_seconds:
            print(f"  soak: {args.soak_seconds} s at 8 clients...", flush=True)
            report["soak"] = soak(port, proc.pid, args.soak_seconds)
            s = report["soak"]
            print(f"  soak: {s['requests']} requests, errors {s['errors']}, RSS {s['rss_mb_after_warmup']} -> {s['rss_mb_end']} MB "
                  f"({s['rss_growth_after_warmup']:+.1%})", flush=True)
    finally:
        proc.terminate()
        proc.wait(15)
    (out / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out / 'load.json'}", file=sys.stderr)
    return 0
