"""`python -m eval compare DIR_A DIR_B`: what a change fixed and what it broke.

Metric deltas (overall and per split), then the items whose outcome changed, matched by id:
fixed (wrong in A, right in B), broken (right in A, wrong in B), and other changes of kind.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.metrics import is_grounded


class CompareError(ValueError):
    """A run folder is missing or incomplete."""


def load_run(folder: str | Path) -> tuple[dict, dict[str, dict]]:
    folder = Path(folder)
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        results = [json.loads(line) for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError as exc:
        raise CompareError(f"{folder} is not a finished run ({Path(exc.filename).name} is missing)") from None
    except ValueError as exc:
        raise CompareError(f"{folder} has a corrupt results file ({exc})") from None
    return summary, {r["id"]: r for r in results}


def _ok(r: dict) -> bool:
    return r["kind"] == r["expect"] and (r["expect"] != "answer" or is_grounded(r))


def compare(a: str | Path, b: str | Path) -> dict:
    sa, ra = load_run(a)
    sb, rb = load_run(b)
    deltas = {}
    for scope, ta, tb in [("overall", sa["overall"], sb["overall"])] + [
            (f"split {k}", sa.get("by_split", {}).get(k, {}), v) for k, v in sb.get("by_split", {}).items()]:
        for m, vb in tb.items():
            va = ta.get(m)
            if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va != vb:
                deltas.setdefault(scope, {})[m] = {"a": va, "b": vb, "delta": round(vb - va, 4)}
    fixed, broken, changed = [], [], []
    for i in sorted(set(ra) & set(rb)):
        x, y = ra[i], rb[i]
        row = {"id": i, "expect": y["expect"], "a": x["kind"], "b": y["kind"], "question": y.get("question", "")}
        if not _ok(x) and _ok(y):
            fixed.append(row)
        elif _ok(x) and not _ok(y):
            broken.append(row)
        elif x["kind"] != y["kind"]:
            changed.append(row)
    return {"a": str(a), "b": str(b), "deltas": deltas, "fixed": fixed, "broken": broken, "changed": changed,
            "only_in_a": sorted(set(ra) - set(rb)), "only_in_b": sorted(set(rb) - set(ra))}


def render(c: dict) -> str:
    lines = [f"A: {c['a']}", f"B: {c['b']}", ""]
    for scope, ms in c["deltas"].items():
        lines.append(f"[{scope}]")
        lines += [f"  {m:<28} {v['a']!s:>9} -> {v['b']!s:<9} ({v['delta']:+})" for m, v in sorted(ms.items())]
    for name in ("fixed", "broken", "changed"):
        lines.append(f"\n{name} ({len(c[name])}):")
        lines += [f"  {r['id']}: expected {r['expect']}, {r['a']} -> {r['b']}  {r['question'][:80]!r}" for r in c[name]]
    if c["only_in_a"] or c["only_in_b"]:
        lines.append(f"\nonly in A: {len(c['only_in_a'])}, only in B: {len(c['only_in_b'])}")
    return "\n".join(lines) + "\n"
