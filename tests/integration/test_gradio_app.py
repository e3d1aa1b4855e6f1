"""The Gradio chat served by `python -m app`, driven through gradio_client like a real client."""

from __future__ import annotations

import json
import urllib.request

import pytest


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


def _text(message) -> str:
    content = message["content"]
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def test_chat_answers_with_sources(client):
    chat, box, status = client.predict("How is esketamine given?", [], api_name="/chat")
    assert box == ""
    assert _text(chat[0]) == "How is esketamine given?"
    assert "nasal spray" in _text(chat[1])
    assert "not medical advice" in _text(chat[1])
    sources = [m for m in chat if (m.get("metadata") or {}).get("title", "").startswith("Sources")]
    assert sources and "<mark>" in _text(sources[0])
    assert status.startswith("Searched for:")


def test_chat_refuses_dosing(client):
    chat, _, _ = client.predict("how much ketamine should i take?", [], api_name="/chat")
    assert "can't help with doses" in _text(chat[-1])


@pytest.mark.parametrize("message", ["", "   ", "y" * 20_000])
def test_bad_input_keeps_the_text_and_explains(client, message):
    chat, box, status = client.predict(message, [], api_name="/chat")
    assert chat == []
    assert box == message  # nothing the user typed is lost
    assert status.startswith("⚠️")


def test_health_and_api(server):
    with urllib.request.urlopen(server.url + "/healthz") as r:
        assert json.load(r)["status"] == "ok"
    req = urllib.request.Request(server.url + "/api/v1/chat", data=json.dumps({"message": "is ketamine addictive?"}).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        body = json.load(r)
    assert body["kind"] == "answer" and body["citations"] and body["retrieved"]
