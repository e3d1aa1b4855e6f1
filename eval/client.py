"""Answering through a running server's HTTP API (`--url`), exactly as a client would.

Standard library only. A 422 (the server's friendly bad-input reply) becomes kind "input_error";
a server that cannot be reached or answers 5xx stops the run with a message naming the URL.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request


class RemoteError(RuntimeError):
    """The server could not be used; the message names the URL and the problem."""


class HttpAnswerer:
    def __init__(self, base_url: str, timeout: float = 60.0):
        self.base = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base + path, data=data, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as exc:
            try:
                payload = json.load(exc)
            except ValueError:
                payload = {}
            return exc.code, payload
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteError(f"cannot reach {self.base}{path}: {getattr(exc, 'reason', exc)}; is the server running?") from None

    def answer(self, question: str, history: list[dict]) -> dict:
        status, payload = self._call("/api/v1/chat", {"message": question, "history": history})
        if status == 422 and payload.get("error") == "bad_input":
            return {"kind": "input_error", "answer": payload.get("detail", ""), "citations": [], "retrieved": []}
        if status != 200:
            raise RemoteError(f"{self.base}/api/v1/chat answered {status}: {payload.get('detail') or payload}")
        return payload

    def describe(self) -> dict:
        status, payload = self._call("/api/v1/version")
        if status != 200:
            raise RemoteError(f"{self.base}/api/v1/version answered {status}")
        return {"mode": "http", "url": self.base, **payload}
