"""`python -m kb [--docs DIR] [--full]`: print the passage table (id, section, words, text)."""

from __future__ import annotations

import argparse
import sys

from kb.documents import DEFAULT_DOCS_DIR, DocumentError, load_documents
from kb.passages import build_passages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kb", description="Print the passages the knowledge base is split into.")
    ap.add_argument("--docs", default=str(DEFAULT_DOCS_DIR), help="documents folder (default: the bundled one)")
    ap.add_argument("--full", action="store_true", help="print whole passage texts, not the first 70 characters")
    args = ap.parse_args(argv)
    try:
        docs = load_documents(args.docs)
    except DocumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    passages = build_passages(docs)
    print(f"{len(docs)} documents, {len(passages)} passages\n")
    print(f"{'passage':<26} {'section':<34} {'sent':>4} {'words':>5}  text")
    for p in passages:
        text = " ".join(p.text.split())
        text = text if args.full else (text[:70] + ("…" if len(text) > 70 else ""))
        print(f"{p.passage_id:<26} {p.section[:34]:<34} {len(p.sentences):>4} {p.words:>5}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
