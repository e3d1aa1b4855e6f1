"""The one server process: FastAPI with the JSON API, health, version, the widget, and the Gradio
chat at `/`.

The engine loads in a background thread at start-up, so `/healthz` answers at once (503 while
starting, 200 when the index and model are loaded, 500 with the reason if loading failed) and the
first request never pays for imports. The API is stateless: history comes from the client.
Protection (origins, headers, sizes, rate limits, the bounded queue) is in `app.security`.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Literal

import orjson
from fastapi import Request
from pydantic import BaseModel, Field

from app.records import BadInput
from app.security import Busy, Gate, RateLimiter, client_key, install
from app.settings import Settings
from app.ui import NotReady

VERSION = "0.1.0"
STATIC = Path(__file__).parent / "static"


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class ChatRequest(BaseModel):
    """A message and the conversation before it, oldest first (the server keeps no state)."""

    message: str = Field(description="the user's message; the server applies its own length limit")
    history: list[Turn] = Field(default_factory=list, max_length=50)


class EngineHolder:
    """Loads the engine once, off the request path; `get()` raises NotReady until it is there."""

    def __init__(self, settings: Settings, loader=None):
        self.settings = settings
        self._loader = loader
        self._engine = None
        self.error: str | None = None
        self.loaded_at: float | None = None

    def load(self) -> None:
        from app.classifier import ClassifierError
        from app.engine import Engine
        from index.embedder import ModelError
        from index.store import IndexProblem
        from kb.documents import DocumentError

        try:
            engine = (self._loader or Engine.load)(self.settings)
            if self.settings.server.batch_window_ms > 0:
                from index.batcher import BatchingEncoder

                engine.encoder = BatchingEncoder(engine.encoder, self.settings.server.batch_window_ms)
            engine.answer("warm-up: how is ketamine given?", [])  # first encode pays torch's lazy init
            self._engine = engine
            self.loaded_at = time.time()
        except (DocumentError, ModelError, IndexProblem, ClassifierError) as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported on /healthz instead of killing the server
            self.error = f"{type(exc).__name__}: {exc}"

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.load, name="engine-loader", daemon=True)
        t.start()
        return t

    def get(self):
        if self._engine is None:
            raise NotReady(self.error or "starting")
        return self._engine


class Services:
    """What every request path shares: the engine, the limiter, the queue gate, the optional log."""

    def __init__(self, settings: Settings, holder: EngineHolder):
        self.settings = settings
        self.holder = holder
        self.limiter = RateLimiter.from_settings(settings.server)
        self.gate = Gate(settings.server.max_concurrency, settings.server.max_queue)
        self._log_lock = threading.Lock()

    def seconds_to_wait(self, request) -> int | None:
        """None if this client may send now, else whole seconds until it may (the API and the UI
        share one limit per client)."""
        host = request.client.host if request.client else None
        wait = self.limiter.hit(client_key(host, request.headers, self.settings.server.trust_proxy))
        return None if wait is None else int(wait) + 1

    def answer(self, message, history):
        with self.gate:
            reply = self.holder.get().answer(message, history)
        if self.settings.server.log_conversations:
            self._log(message, reply)
        return reply

    def _log(self, message: str, reply) -> None:
        path = Path(self.settings.server.log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        row = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "message": message, "kind": reply.kind, "answer": reply.text}
        with self._log_lock, open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def widget_source(settings: Settings) -> str:
    """widget.js with the deployment's branding as defaults (data attributes still override)."""
    from app.templates import load_templates

    b = settings.branding
    defaults = {"clinic_name": b.clinic_name, "welcome": b.welcome, "primary_color": b.primary_color,
                "accent_color": b.accent_color, "position": b.position,
                "notice": load_templates(settings.crisis).notice}
    blob = json.dumps(defaults).replace("<", "\\u003c").replace("*/", "*\\/")
    return (STATIC / "widget.js").read_text(encoding="utf-8").replace("/*CONFIG*/{}", blob, 1)


def create_server(settings: Settings, holder: EngineHolder | None = None):
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, Response

    from app.ui import create_app, theme

    holder = holder or EngineHolder(settings)
    services = Services(settings, holder)
    api = FastAPI(title="Ketamine information chat API", version=VERSION,
                  description="Grounded answers quoted from the bundled sources, with citations. Not medical advice.")
    install(api, settings.server)
    widget = widget_source(settings)

    @api.get("/healthz")
    def healthz():
        if holder.error:
            return JSONResponse({"status": "error", "detail": holder.error}, status_code=500)
        if holder.loaded_at is None:
            return JSONResponse({"status": "starting"}, status_code=503, headers={"Retry-After": "5"})
        return {"status": "ok", "passages": len(holder.get().index.passages)}

    @api.get("/api/v1/version")
    def version():
        info = {"version": VERSION}
        if holder.loaded_at is not None:
            m = holder.get().index.manifest
            info.update(model=m.model_id, index_type=m.index_type, passages=m.n_passages, built_at=m.built_at)
        return info

    @api.post("/api/v1/chat")
    def chat(req: ChatRequest, request: Request):
        wait = services.seconds_to_wait(request)
        if wait is not None:
            return JSONResponse({"error": "rate_limited", "detail": f"You're sending messages quickly. Please wait {wait} seconds."},
                                status_code=429, headers={"Retry-After": str(wait)})
        try:
            reply = services.answer(req.message, [t.model_dump() for t in req.history])
        except BadInput as exc:
            return JSONResponse({"error": "bad_input", "detail": str(exc)}, status_code=422)
        except (NotReady, Busy) as exc:
            detail = "The assistant is busy; please try again shortly." if isinstance(exc, Busy) else "The assistant is still starting up."
            return JSONResponse({"error": "unavailable", "detail": detail}, status_code=503, headers={"Retry-After": "5"})
        # Serialised here with orjson: the reply is plain data, so FastAPI's generic encoder (which
        # walks every value) would only add time under load.
        return Response(orjson.dumps(reply.to_dict()), media_type="application/json")

    @api.get("/widget.js", include_in_schema=False)
    def widget_js():
        return Response(widget, media_type="application/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"})

    def ui_answer(message, history, request=None):
        wait = services.seconds_to_wait(request) if request is not None else None
        if wait is not None:
            raise BadInput(f"You're sending messages quickly. Please wait {wait} seconds and try again.")
        try:
            return services.answer(message, history)
        except Busy:
            raise BadInput("The assistant is busy right now. Please try again in a few seconds.") from None

    demo = create_app(holder.get, settings, ui_answer)
    app = gr.mount_gradio_app(api, demo, path="/", theme=theme(), footer_links=[], ssr_mode=False)
    app.state.services = services
    return app
