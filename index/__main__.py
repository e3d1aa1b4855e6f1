"""`python -m index build|status`: build the index if missing or stale (with progress), or report on it."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kb import DEFAULT_DOCS_DIR, DocumentError, build_passages, load_documents

DEFAULT_INDEX_DIR = Path(__file__).resolve().parent.parent / "build" / "index"


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m index", description="Build or inspect the search index.")
    ap.add_argument("command", choices=["build", "status"])
    ap.add_argument("--docs", default=str(DEFAULT_DOCS_DIR), help="documents folder")
    ap.add_argument("--out", default=str(DEFAULT_INDEX_DIR), help="index folder (default: build/index)")
    ap.add_argument("--model", default=None, help="local sentence-transformers model folder (default: the bundled all-MiniLM-L6-v2)")
    ap.add_argument("--force", action="store_true", help="rebuild even if the index is up to date")
    args = ap.parse_args(argv)

    from index.embedder import ModelError, SentenceEncoder
    from index.store import IndexProblem, ensure_index, load_index, read_manifest

    try:
        passages = build_passages(load_documents(args.docs))
        encoder = SentenceEncoder(args.model)
        out = Path(args.out)
        if args.command == "status":
            m = read_manifest(out)
            load_index(out, passages, encoder.model_id)
            print(f"index at {out} is up to date: {m.n_passages} passages, {m.n_sentences} sentences, model {m.model_id}, built {m.built_at}")
            return 0
        t0 = time.perf_counter()
        _say(f"{len(passages)} passages from {args.docs}; model {encoder.model_id}")
        if args.force:
            import shutil

            shutil.rmtree(out, ignore_errors=True)
        _, rebuilt = ensure_index(out, passages, encoder, _say)
        verb = "built" if rebuilt else "already up to date:"
        _say(f"index {verb} {out} in {time.perf_counter() - t0:.1f} s")
        return 0
    except (DocumentError, ModelError, IndexProblem) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
