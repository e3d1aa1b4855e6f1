"""report.md and report.html for a person: metrics, confusion matrix, charts, every failing item.

Charts are inline SVG written here (no plotting library, no script, nothing fetched), so the page
renders offline and the same results give the same bytes. Every piece of question, answer or source
text is HTML-escaped.
"""

from __future__ import annotations

import html

from eval.metrics import KINDS, evidence_in_answer, is_grounded

HEADLINE = ["outcome_accuracy", "retrieval_recall@1", "retrieval_recall@3", "retrieval_recall@5", "mrr", "grounded_answer_rate",
            "evidence_in_answer_rate", "quote_fidelity", "dosing_refusal_recall", "over_refusal_rate", "crisis_recall",
            "out_of_scope_accuracy", "on_topic_out_of_scope_rate", "abstention_accuracy", "wrong_abstention_rate", "keyword_recall",
            "answer_words_p50", "answer_words_max", "latency_ms_p50", "latency_ms_p95", "latency_ms_max", "n"]


def failures(results: list[dict]) -> list[tuple[dict, str]]:
    """Items that failed, with why: wrong outcome, or an answer that is not grounded."""
    out = []
    for r in results:
        if r["kind"] != r["expect"]:
            out.append((r, f"expected {r['expect']}, got {r['kind']}"))
        elif r["expect"] == "answer" and not is_grounded(r):
            out.append((r, "answered, but no cited passage holds the evidence"))
        elif r["expect"] == "answer" and not evidence_in_answer(r):
            out.append((r, "the evidence is cited but not quoted in the answer"))
    return out


def _fmt(v) -> str:
    return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _columns(summary: dict) -> list[tuple[str, dict]]:
    cols = [("overall", summary["overall"])]
    cols += [(f"split {k}", v) for k, v in summary.get("by_split", {}).items()]
    cols += [(f"expect {k}", v) for k, v in summary.get("by_expect", {}).items()]
    return cols


def markdown(summary: dict, results: list[dict]) -> str:
    cols = _columns(summary)
    lines = [f"# Evaluation report: {summary.get('set', '')}", "", f"Configuration: `{summary.get('config', {})}`", "",
             "| metric | " + " | ".join(c for c, _ in cols) + " |", "| --- |" + " --- |" * len(cols)]
    for m in HEADLINE:
        lines.append(f"| {m} | " + " | ".join(_fmt(t.get(m)) for _, t in cols) + " |")
    lines += ["", "## Confusion matrix (rows: expected, columns: chosen)", "", "| expected \\ chosen | " + " | ".join(KINDS) + " |",
              "| --- |" + " --- |" * len(KINDS)]
    for e in KINDS:
        lines.append(f"| {e} | " + " | ".join(str(summary["confusion"][e][k]) for k in KINDS) + " |")
    fails = failures(results)
    lines += ["", f"## Failing items ({len(fails)})", ""]
    for r, why in fails:
        lines += [f"### {r['id']}: {why}", "", f"- question: {r['question']}"]
        lines += [f"- history ({t['role']}): {t['content']}" for t in r.get("history", [])]
        lines += [f"- answer: {' '.join(r['answer'].split())}"]
        lines += [f"- cited [{i}] {c['passage_id']}: {' '.join(c['text'].split())}" for i, c in enumerate(r["citations"], 1)]
        lines += [f"- retrieved {h['passage_id']} ({_fmt(h['score'])})" for h in r["retrieved"][:3]]
        lines += [f"- evidence: {e}" for e in r.get("evidence", [])] + [""]
    return "\n".join(lines) + "\n"


def _bars(title: str, items: list[tuple[str, float]], vmax: float = 1.0, unit: str = "") -> str:
    w, row, left = 520, 26, 170
    h = row * len(items) + 40
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, v) in enumerate(items):
        y = 28 + i * row
        bw = 0 if not vmax else max(0.0, (w - left - 60) * (v or 0) / vmax)
        parts += [f'<text x="0" y="{y + 15}" font-size="12">{html.escape(label)}</text>',
                  f'<rect x="{left}" y="{y}" width="{bw:.1f}" height="18" fill="#0f766e"/>',
                  f'<text x="{left + bw + 6:.1f}" y="{y + 14}" font-size="12">{_fmt(v)}{unit}</text>']
    return "".join(parts) + "</svg>"


def _histogram(values: list[float], title: str) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    n = 12
    width = (hi - lo) / n or 1.0
    counts = [0] * n
    for v in values:
        counts[min(n - 1, int((v - lo) / width))] += 1
    items = [(f"{lo + i * width:.0f}–{lo + (i + 1) * width:.0f} ms", c) for i, c in enumerate(counts)]
    return _bars(title, items, vmax=max(counts))


def _table(summary: dict) -> str:
    cols = _columns(summary)
    head = "".join(f"<th>{html.escape(c)}</th>" for c, _ in cols)
    rows = "".join(f"<tr><th>{m}</th>" + "".join(f"<td>{_fmt(t.get(m))}</td>" for _, t in cols) + "</tr>" for m in HEADLINE)
    return f"<table><tr><th>metric</th>{head}</tr>{rows}</table>"


def _confusion(summary: dict) -> str:
    conf = summary["confusion"]
    peak = max([1] + [conf[e][k] for e in KINDS for k in KINDS])
    head = "".join(f"<th>{k}</th>" for k in KINDS)
    rows = ""
    for e in KINDS:
        cells = ""
        for k in KINDS:
            v = conf[e][k]
            alpha = 0.08 + 0.8 * v / peak if v else 0
            color = "15,118,110" if e == k else "190,24,93"
            cells += f'<td style="background:rgba({color},{alpha:.2f})">{v}</td>'
        rows += f"<tr><th>{e}</th>{cells}</tr>"
    return f'<table class="confusion"><tr><th>expected \\ chosen</th>{head}</tr>{rows}</table>'


def _item(r: dict, why: str) -> str:
    e = html.escape
    hist = "".join(f"<li><b>{e(t['role'])}:</b> {e(t['content'])}</li>" for t in r.get("history", []))
    cites = "".join(f"<li>[{i}] <code>{e(c['passage_id'])}</code> {e(' '.join(c['text'].split()))}</li>" for i, c in enumerate(r["citations"], 1))
    retr = "".join(f"<li><code>{e(h['passage_id'])}</code> ({_fmt(h['score'])}) {e(' '.join(h['text'].split())[:240])}</li>" for h in r["retrieved"])
    ev = "".join(f"<li>{e(x)}</li>" for x in r.get("evidence", []))
    return (f'<details class="fail"><summary><b>{e(r["id"])}</b> — {e(why)}: {e(r["question"][:140])}</summary>'
            f"<p><b>Question:</b> {e(r['question'])}</p>" + (f"<p><b>History:</b></p><ul>{hist}</ul>" if hist else "")
            + f"<p><b>Expected:</b> {e(r['expect'])} &nbsp; <b>Chosen:</b> {e(str(r['kind']))} &nbsp; <b>Why:</b> {e(r.get('reason', ''))}</p>"
            + f"<p><b>Answer:</b> {e(r['answer'])}</p>" + (f"<p><b>Citations:</b></p><ul>{cites}</ul>" if cites else "")
            + (f"<p><b>Evidence:</b></p><ul>{ev}</ul>" if ev else "") + (f"<p><b>Retrieved:</b></p><ol>{retr}</ol>" if retr else "") + "</details>")


def html_page(summary: dict, results: list[dict]) -> str:
    o = summary["overall"]
    recall = [(f"recall@{k}", o.get(f"retrieval_recall@{k}")) for k in (1, 3, 5)] + [("MRR", o.get("mrr"))]
    behaviour = [(m, o.get(m)) for m in ("outcome_accuracy", "grounded_answer_rate", "evidence_in_answer_rate", "quote_fidelity",
                                          "dosing_refusal_recall", "crisis_recall", "out_of_scope_accuracy", "abstention_accuracy")]
    fails = failures(results)
    lat = [float(r["latency_ms"]) for r in results if r.get("latency_ms") is not None]
    css = ("body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#111}table{border-collapse:collapse;margin:1rem 0}"
           "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;font-size:13px}th{background:#f4f4f5}"
           ".charts{display:flex;flex-wrap:wrap;gap:2rem}details.fail{border:1px solid #ddd;padding:.5rem;margin:.4rem 0}"
           "details.fail p,details.fail li{text-align:left;font-size:14px}")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Evaluation report</title>"
            f"<style>{css}</style></head><body><h1>Evaluation report</h1><p>Set: <code>{html.escape(str(summary.get('set', '')))}</code>"
            f" — {o['n']} questions — version {html.escape(str(summary.get('version', '')))}</p>"
            f"<p>Configuration: <code>{html.escape(str(summary.get('config', {})))}</code></p>"
            f"<div class='charts'>{_bars('Retrieval (answer items)', recall)}{_bars('Behaviour', behaviour)}"
            f"{_histogram(lat, 'Latency per question')}</div>"
            f"<h2>Metrics</h2>{_table(summary)}<h2>Confusion matrix</h2>{_confusion(summary)}"
            f"<h2>Failing items ({len(fails)})</h2>" + "".join(_item(r, why) for r, why in fails) + "</body></html>\n")
