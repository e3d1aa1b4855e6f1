"""`python -m app [--host H] [--port P] [--config FILE]`: start the chat UI and API on one port."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from app.settings import SettingsError, load_settings

    ap = argparse.ArgumentParser(prog="python -m app", description="Serve the ketamine information chat (UI at /, API at /api/v1/chat).")
    ap.add_argument("--host", help="interface to listen on (default from settings: 127.0.0.1)")
    ap.add_argument("--port", type=int, help="port (default from settings: 7860)")
    ap.add_argument("--config", help="settings file (TOML); KETA_* environment variables override it")
    args = ap.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host = args.host or settings.server.host
    port = args.port or settings.server.port

    from index.store import IndexProblem, read_manifest

    try:
        read_manifest(settings.index_dir)
    except IndexProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    from app.server import EngineHolder, create_server

    holder = EngineHolder(settings)
    holder.start()
    app = create_server(settings, holder)
    print(f"Serving the chat at http://{host}:{port}/ (API: /api/v1/chat, health: /healthz)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
