"""The one server process: FastAPI with the JSON API, health and version, and the Gradio chat at `/`.

The engine loads in a background thread at start-up, so `/healthz` answers at once (503 while
starting, 200 when the index and model are loaded, 500 with the reason if loading failed) and the
first request never pays for imports. The API is stateless: history comes from the client.
"""

from __future__ import annotations

import threading
import time
from typing import Literal

from pydantic import BaseModel, Field

from app.records import BadInput
from app.settings import Settings
from app.ui import NotReady

VERSION = "0.1.0"


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
        self._started = time.time()

    def load(self) -> None:
        from app.engine import Engine
        from index.embedder import ModelError
        from index.store import IndexProblem
        from kb.documents import DocumentError

        try:
            engine = (self._loader or Engine.load)(self.settings)
            engine.answer("warm-up: how is ketamine given?", [])  # first encode pays torch's lazy init
            self._engine = engine
            self.loaded_at = time.time()
        except (DocumentError, ModelError, IndexProblem) as exc:
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


def create_server(settings: Settings, holder: EngineHolder | None = None):
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from app.ui import create_app, theme

    holder = holder or EngineHolder(settings)
    api = FastAPI(title="Ketamine information chat API", version=VERSION,
                  description="Grounded answers quoted from the bundled sources, with citations. Not medical advice.")

    @api.get("/healthz")
    def healthz():
        if holder.error:
            return JSONResponse({"status": "error", "detail": holder.error}, status_code=500)
        if holder.loaded_at is None:
            return JSONResponse({"status": "starting"}, status_code=503)
        return {"status": "ok", "passages": len(holder.get().index.passages)}

    @api.get("/api/v1/version")
    def version():
        info = {"version": VERSION}
        if holder.loaded_at is not None:
            m = holder.get().index.manifest
            info.update(model=m.model_id, index_type=m.index_type, passages=m.n_passages, built_at=m.built_at)
        return info

    @api.post("/api/v1/chat")
    def chat(req: ChatRequest):
        try:
            reply = holder.get().answer(req.message, [t.model_dump() for t in req.history])
        except BadInput as exc:
            return JSONResponse({"error": "bad_input", "detail": str(exc)}, status_code=422)
        except NotReady:
            return JSONResponse({"error": "starting", "detail": "The assistant is still starting up; try again shortly."},
                                status_code=503, headers={"Retry-After": "5"})
        return reply.to_dict()

    demo = create_app(holder.get, settings)
    app = gr.mount_gradio_app(api, demo, path="/", theme=theme(), footer_links=[], ssr_mode=False)
    app.state.holder = holder
    return app
