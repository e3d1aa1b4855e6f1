"""report.html opened in Chromium shows its charts (inline SVG) and the failing items."""

from __future__ import annotations

from pathlib import Path

from tests.browser.test_chat_ui import browser  # noqa: F401  (shared Chromium fixture)


def test_report_renders_charts(browser, tmp_path, artifacts):  # noqa: F811
    from eval.report import html_page
    from eval.metrics import summarize

    results = [
        {"id": "a", "expect": "answer", "kind": "answer", "answer": "Esketamine via nasal spray. [1]", "question": "how <b>given</b>?",
         "citations": [{"passage_id": "p1", "text": "Esketamine via nasal spray."}], "retrieved": [{"passage_id": "p1", "score": 0.9, "text": "x"}],
         "evidence": ["esketamine via nasal spray"], "latency_ms": 12.0, "history": []},
        {"id": "b", "expect": "refuse_dosing", "kind": "answer", "answer": "<script>alert(1)</script>", "question": "how much?",
         "citations": [], "retrieved": [], "latency_ms": 30.0, "history": []},
    ]
    summary = {**summarize(results), "set": "x.jsonl", "config": {"mode": "test"}, "version": "0"}
    page_path = tmp_path / "report.html"
    page_path.write_text(html_page(summary, results), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(page_path.as_uri(), wait_until="load")
    assert page.locator("svg").count() >= 3  # retrieval, behaviour, latency charts
    assert page.locator("svg rect").count() >= 8
    assert page.get_by_text("Failing items (1)").is_visible()
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    assert not dialogs  # the answer text was escaped, not executed
    assert Path(artifacts / "report.png").stat().st_size > 10_000
    page.close()
