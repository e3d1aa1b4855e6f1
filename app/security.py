"""Protection for a public deployment: origins, headers, sizes, rate limits and a bounded queue.

- CORS by allow-list: a browser request from an origin that is neither this server nor listed in
  `server.allowed_origins` gets a 403 and no CORS headers, so another site cannot use the API.
- Security headers on every response (nosniff, no referrer, frame-ancestors; a strict CSP on the
  API and the widget script).
- Request bodies over `server.max_body_bytes` get 413 before they are read.
- Per-client rate limits with the `limits` package (in memory, or Redis for several replicas):
  429 with Retry-After and a friendly message. The client is the socket peer, or the first
  X-Forwarded-For hop when `server.trust_proxy` is on.
- A bounded gate in front of the engine: at most `max_concurrency` answers at once and
  `max_queue` waiting; beyond that a burst gets 503 with Retry-After instead of piling up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from app.settings import Server

API_CSP = "default-src 'none'; frame-ancestors 'none'"


class Busy(RuntimeError):
    """The queue in front of the engine is full."""


class Gate:
    def __init__(self, concurrency: int, queue: int, wait_s: float = 30.0):
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._waiting = 0
        self.queue = queue
        self.wait_s = wait_s

    def __enter__(self):
        with self._lock:
            if self._waiting >= self.queue:
                raise Busy("too many requests are waiting")
            self._waiting += 1
        try:
            if not self._slots.acquire(timeout=self.wait_s):
                raise Busy("timed out waiting for a free worker")
        finally:
            with self._lock:
                self._waiting -= 1
        return self

    def __exit__(self, *exc):
        self._slots.release()


@dataclass
class RateLimiter:
    limits: list
    strategy: object

    @classmethod
    def from_settings(cls, server: Server) -> "RateLimiter":
        from limits import parse_many, storage, strategies

        store = storage.storage_from_string(server.rate_limit_storage)
        return cls(parse_many(server.rate_limit), strategies.MovingWindowRateLimiter(store))

    def hit(self, key: str) -> float | None:
        """None if allowed, else seconds until the client may try again."""
        import time

        for item in self.limits:
            if not self.strategy.hit(item, "chat", key):
                reset = self.strategy.get_window_stats(item, "chat", key).reset_time
                return max(1.0, reset - time.time())
        return None


def client_key(host: str | None, headers, trust_proxy: bool) -> str:
    if trust_proxy:
        fwd = headers.get("x-forwarded-for", "")
        if fwd.strip():
            return fwd.split(",")[0].strip()
    return host or "unknown"


def own_origins(headers) -> set[str]:
    host = headers.get("host", "")
    return {f"http://{host}", f"https://{host}"} if host else set()


class Guard:
    """Pure ASGI middleware: origin check, size limit, CORS and security headers.

    Written against ASGI directly rather than Starlette's BaseHTTPMiddleware: it only touches the
    response's start message, so streamed responses (the chat UI's event stream) pass through
    untouched, and it costs a few microseconds per request instead of a task and a queue.
    """

    def __init__(self, app, server: Server):
        self.app = app
        self.server = server
        self.allowed = set(server.allowed_origins)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.datastructures import Headers
        from starlette.responses import JSONResponse, Response

        headers = Headers(scope=scope)
        path = scope["path"]
        origin = headers.get("origin")
        is_api = path.startswith("/api/")
        allowed = self.allowed
        if is_api and origin and origin not in own_origins(headers) and "*" not in allowed and origin not in allowed:
            response = JSONResponse({"error": "origin_not_allowed", "detail": "This site is not allowed to use this chat."}, status_code=403)
        else:
            length = headers.get("content-length")
            if length and length.isdigit() and int(length) > self.server.max_body_bytes:
                response = JSONResponse({"error": "too_large", "detail": f"Request body over {self.server.max_body_bytes} bytes."},
                                        status_code=413)
            elif is_api and scope["method"] == "OPTIONS" and origin:
                response = Response(status_code=204)
            else:
                response = None
        extra = self._headers(path, is_api, origin)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                keep = {k.lower() for k, _ in own} & {b"permissions-policy"}  # the app's own policy wins
                ours = [(k, v) for k, v in extra if k not in keep]
                replaced = {k for k, _ in ours}
                message = {**message, "headers": [*((k, v) for k, v in own if k.lower() not in replaced), *ours]}
            await send(message)

        if response is not None:
            return await response(scope, receive, send_with_headers)
        return await self.app(scope, receive, send_with_headers)

    def _headers(self, path: str, is_api: bool, origin: str | None) -> list[tuple[bytes, bytes]]:
        out = []
        if is_api and origin and (origin in self.allowed or "*" in self.allowed):
            out += [("Access-Control-Allow-Origin", origin if "*" not in self.allowed else "*"),
                    ("Access-Control-Allow-Methods", "POST, GET, OPTIONS"), ("Access-Control-Allow-Headers", "content-type"),
                    ("Access-Control-Max-Age", "600"), ("Vary", "Origin")]
        out += [("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
                ("Permissions-Policy", "camera=(), microphone=(), geolocation=()")]
        if is_api or path == "/widget.js":
            out.append(("Content-Security-Policy", API_CSP))
        else:
            out += [("Content-Security-Policy", "frame-ancestors 'self'"), ("X-Frame-Options", "SAMEORIGIN")]
        return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out]


def install(app, server: Server) -> None:
    """Add the origin check, headers and size limit to a FastAPI app."""
    app.add_middleware(Guard, server=server)
