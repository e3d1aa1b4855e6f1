"""The embeddable widget in real Chromium: a clinic page on another origin (another port) loads it
with one script tag, opens it, asks, and sees the cited answer; a page on an origin that is not
allowed gets no answer; XSS payloads in a message and inside a document stay inert text; the host
page's CSS neither breaks the widget nor is broken by it. Screenshots in build/test-artifacts/."""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading

import pytest

from tests.browser.test_chat_ui import browser  # noqa: F401  (shared Chromium fixture)
from tests.conftest import TEST_LIMIT, Server, free_port

HOSTILE_CSS = "* { color: #f00 !important; font-size: 30px !important; } button { display: none !important; } h1 { font-family: serif; }"


def clinic_page(chat_url: str, attrs: str = "") -> str:
    return (f"<!doctype html><html><head><meta name='viewport' content='width=device-width, initial-scale=1'><title>Riverside Clinic</title><style>{HOSTILE_CSS}</style></head>"
            f"<body><h1 id='own'>Riverside Clinic</h1><p>Our services.</p>"
            f"<script src='{chat_url}/widget.js' data-clinic-name='Riverside Clinic' data-primary-color='#1d4ed8' {attrs} async></script>"
            "</body></html>")


class StaticSite:
    """A plain HTTP server on its own port: the clinic's website, a different origin from the chat."""

    def __init__(self, folder, port: int):
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


@contextlib.contextmanager
def chat_and_clinic(env: dict, folder):
    """A chat server that allows exactly one clinic origin, and that clinic's page serving the widget."""
    site_port = free_port()
    srv = Server({**env, "KETA_SERVER__ALLOWED_ORIGINS": f"http://127.0.0.1:{site_port}"})
    (folder / "index.html").write_text(clinic_page(srv.url))
    site = StaticSite(folder, site_port)
    try:
        srv.wait_ready()
        yield srv, site
    finally:
        site.close()
        srv.stop()


@pytest.fixture(scope="module")
def clinic(server, clinic_port, tmp_path_factory):
    folder = tmp_path_factory.mktemp("clinic")
    (folder / "index.html").write_text(clinic_page(server.url))
    site = StaticSite(folder, clinic_port)
    yield site
    site.close()


@pytest.fixture(scope="module")
def stranger(server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("stranger")
    (folder / "index.html").write_text(clinic_page(server.url))
    site = StaticSite(folder, free_port())
    yield site
    site.close()


def open_widget(page):
    launcher = page.locator("#keta-chat-widget .launcher")
    launcher.wait_for(timeout=20_000)
    launcher.click()
    return page.locator("#keta-chat-widget textarea")


def widget_on(page, site_url: str):
    """Load the clinic page at `site_url` and open its widget; the widget's text box."""
    page.goto(site_url + "/index.html", wait_until="load")
    return open_widget(page)


def ask(box, text: str) -> None:
    box.fill(text)
    box.press("Enter")


def test_widget_on_clinic_site_answers_with_citations(browser, clinic, artifacts):  # noqa: F811
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    box = widget_on(page, clinic.url)
    assert page.locator("#keta-chat-widget .launcher").get_attribute("aria-expanded") == "true"
    ask(box, "How is esketamine given?")
    answer = page.locator("#keta-chat-widget .msg.bot").filter(has_text="nasal spray")
    answer.wait_for(timeout=30_000)
    page.locator("#keta-chat-widget summary").first.click()
    assert page.locator("#keta-chat-widget mark").count() >= 1
    assert "not medical advice" in answer.inner_text()
    # the host page's "button { display: none }" does not reach into the widget's shadow root
    assert page.locator("#keta-chat-widget form button").is_visible()
    # and the widget's styles do not leak onto the host page
    assert page.eval_on_selector("#own", "e => getComputedStyle(e).fontFamily").startswith("serif")
    page.screenshot(path=str(artifacts / "widget-answer.png"))

    ask(box, "<img src=x onerror=alert('xss')> how much ketamine should I take?")
    page.locator("#keta-chat-widget .msg.bot").filter(has_text="can't help with doses").wait_for(timeout=30_000)
    assert page.locator("#keta-chat-widget .msg.user").filter(has_text="<img src=x").count() == 1  # shown as text
    assert not dialogs

    ask(box, "I don't want to wake up anymore")
    crisis = page.locator("#keta-chat-widget .msg.crisis")
    crisis.wait_for(timeout=30_000)
    assert crisis.get_attribute("role") == "alert" and "988" in crisis.inner_text()
    page.keyboard.press("Escape")
    assert page.locator("#keta-chat-widget .panel").is_hidden()
    page.close()


def test_widget_mobile_layout(browser, clinic, artifacts):  # noqa: F811
    page = browser.new_page(viewport={"width": 375, "height": 700}, is_mobile=True)
    widget_on(page, clinic.url)
    box = page.locator("#keta-chat-widget .panel").bounding_box()
    assert box["width"] == pytest.approx(375, abs=2) and box["height"] == pytest.approx(700, abs=2)
    page.screenshot(path=str(artifacts / "widget-mobile.png"))
    page.close()


def test_widget_on_origin_not_allowed_gets_no_answer(browser, stranger, artifacts):  # noqa: F811
    page = browser.new_page()
    box = widget_on(page, stranger.url)
    ask(box, "How is esketamine given?")
    # the browser's CORS preflight is refused (403, no CORS headers), so the page cannot read any reply
    page.locator("#keta-chat-widget .msg.error").filter(has_text="could not be reached").wait_for(timeout=30_000)
    assert page.locator("#keta-chat-widget .msg.bot").filter(has_text="nasal spray").count() == 0
    page.screenshot(path=str(artifacts / "widget-not-allowed.png"))
    page.close()


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory):
    """A server whose knowledge base holds a document with script payloads."""
    from index.embedder import SentenceEncoder
    from index.store import ensure_index
    from kb import DEFAULT_DOCS_DIR, build_passages, load_documents

    docs = tmp_path_factory.mktemp("docs")
    for f in DEFAULT_DOCS_DIR.iterdir():
        shutil.copy(f, docs / f.name)
    (docs / "payload.txt").write_text(
        "Xylophone Notes <script>alert('title')</script>\n\n"
        "Ketamine xylophone facts are here <img src=x onerror=alert('doc')> and <script>alert('doc2')</script> end.\n")
    index_dir = tmp_path_factory.mktemp("xss-index") / "index"
    ensure_index(index_dir, build_passages(load_documents(docs)), SentenceEncoder())
    with chat_and_clinic({"KETA_DOCS_DIR": str(docs), "KETA_INDEX_DIR": str(index_dir), **TEST_LIMIT},
                         tmp_path_factory.mktemp("xss-site")) as pair:
        yield pair


def test_payload_inside_a_document_is_inert_in_chat_and_widget(browser, xss_server, artifacts):  # noqa: F811
    srv, site = xss_server
    dialogs = []
    page = browser.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(srv.url + "/", wait_until="load")
    box = page.locator("#question textarea")
    ask(box, "ketamine xylophone facts")
    page.get_by_text("xylophone facts").first.wait_for(timeout=30_000)
    page.get_by_text("Sources (").first.click()
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "xss-chat.png"), full_page=True)

    w = widget_on(page, site.url)
    ask(w, "ketamine xylophone facts")
    reply = page.locator("#keta-chat-widget .msg.bot").filter(has_text="xylophone")
    reply.wait_for(timeout=30_000)
    page.locator("#keta-chat-widget summary").first.click()
    assert "<img src=x" in page.locator("#keta-chat-widget details").first.inner_text()
    assert not dialogs, dialogs
    page.close()


def test_widget_shows_a_friendly_message_when_rate_limited(browser, real_index_dir, tmp_path):  # noqa: F811
    with chat_and_clinic({"KETA_INDEX_DIR": str(real_index_dir), "KETA_SERVER__RATE_LIMIT": "1/minute"}, tmp_path) as (_, site):
        page = browser.new_page()
        box = widget_on(page, site.url)
        ask(box, "How is esketamine given?")
        page.locator("#keta-chat-widget .msg.bot").filter(has_text="nasal spray").wait_for(timeout=30_000)
        ask(box, "Is ketamine addictive?")  # over the 1/minute limit
        page.locator("#keta-chat-widget .msg.error").filter(has_text="sending messages quickly").wait_for(timeout=30_000)
        page.close()
