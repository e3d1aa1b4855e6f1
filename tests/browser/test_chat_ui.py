"""The Gradio chat in real Chromium (Debian's, driven by Playwright): answers with sources, refuses
a dosing question, and fetches nothing from any host but its own. Screenshots go to
build/test-artifacts/."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, headless=True,
                               args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                     "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def ask(page, question: str):
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def test_chat_answers_with_sources_and_refuses_dosing(browser, server, artifacts):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    hosts = set()
    page.on("request", lambda req: hosts.add(urlparse(req.url).netloc) if req.url.startswith("http") else None)
    page.goto(server.url + "/", wait_until="load")
    page.get_by_text("not medical advice").first.wait_for(timeout=30_000)

    ask(page, "How is esketamine given?")
    page.get_by_text("nasal spray").first.wait_for(timeout=30_000)
    page.get_by_text("Sources (").first.wait_for(timeout=10_000)
    page.get_by_text("Searched for:").first.wait_for(timeout=10_000)
    page.screenshot(path=str(artifacts / "chat-answer.png"), full_page=True)

    ask(page, "how many mg should I take for my depression?")
    page.get_by_text("can't help with doses").first.wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts / "chat-refusal.png"), full_page=True)

    assert hosts == {urlparse(server.url).netloc}, f"the page contacted other hosts: {hosts}"
    page.close()


def test_empty_and_long_input_get_friendly_messages(browser, server):
    page = browser.new_page()
    page.goto(server.url + "/", wait_until="load")
    page.locator("#question textarea").wait_for()
    long_text = "why " * 400
    ask(page, long_text)
    page.get_by_text("the limit is 1,000").first.wait_for(timeout=30_000)
    assert page.locator("#question textarea").input_value().strip() == long_text.strip()  # nothing lost
    page.close()
