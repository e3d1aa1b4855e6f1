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


def client_key(scope_client, headers, trust_proxy: bool) -> str:
    if trust_proxy:
        fwd = headers.get("x-forwarded-for", "")
        if fwd.strip():
            return fwd.split(",")[0].strip()
    return scope_client[0] if scope_client else "unknown"


def own_origins(headers) -> set[str]:
    host = headers.get("host", "")
    return {f"http://{host}", f"https://{host}"} if host else set()


def install(app, server: Server) -> None:
    """Add the origin check, headers and size limit to a FastAPI app (order: outermost first)."""
    from starlette.middleware.base import BaseHTTPMiddleware
    from starlette.responses import JSONResponse, Response

    allowed = set(server.allowed_origins)

    async def guard(request, call_next):
        path = request.url.path
        origin = request.headers.get("origin")
        is_api = path.startswith("/api/")
        if is_api and origin and origin not in own_origins(request.headers) and "*" not in allowed and origin not in allowed:
            return JSONResponse({"error": "origin_not_allowed", "detail": "This site is not allowed to use this chat."}, status_code=403)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > server.max_body_bytes:
            return JSONResponse({"error": "too_large", "detail": f"Request body over {server.max_body_bytes} bytes."}, status_code=413)
        if is_api and request.method == "OPTIONS" and origin:
            response = Response(status_code=204)
        else:
            response = await call_next(request)
        if is_api and origin and (origin in allowed or "*" in allowed):
            response.headers["Access-Control-Allow-Origin"] = origin if "*" not in allowed else "*"
            response.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "content-type"
            response.headers["Access-Control-Max-Age"] = "600"
            response.headers["Vary"] = "Origin"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if is_api or path == "/widget.js":
            response.headers["Content-Security-Policy"] = API_CSP
        else:
            response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        return response

    app.add_middleware(BaseHTTPMiddleware, dispatch=guard)
