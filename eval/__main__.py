"""`python -m eval run SET.jsonl --out DIR [--split NAME]`: run a question set and write the results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _engine(**kwargs):
    from app.engine import Engine
    from app.settings import load_settings

    return Engine.load(load_settings(), **kwargs)


def cmd_run(args) -> int:
    from eval.runner import InProcess, build_summary, progress_bar, run_items, write_run
    from eval.schema import load_set

    items = load_set(args.set)
    if args.split:
        items = [i for i in items if i.extras().get("split") == args.split]
        if not items:
            print(f"error: no items with split {args.split!r} in {args.set}", file=sys.stderr)
            return 2
    print(f"{len(items)} questions from {args.set}", file=sys.stderr)
    answerer = InProcess(_engine())
    results = run_items(items, answerer, progress_bar())
    summary = build_summary(results, answerer.describe(), str(args.set))
    write_run(Path(args.out), results, summary)
    o = summary["overall"]
    shown = ["outcome_accuracy", "retrieval_recall@3", "mrr", "grounded_answer_rate", "evidence_in_answer_rate", "quote_fidelity",
             "dosing_refusal_recall", "over_refusal_rate", "crisis_recall", "out_of_scope_accuracy", "abstention_accuracy", "answer_words_p50", "latency_ms_p50"]
    for name in shown:
        print(f"  {name:<26} {o[name]}")
    for split, m in summary.get("by_split", {}).items():
        print(f"  [{split}] " + "  ".join(f"{k}={m[k]}" for k in ("outcome_accuracy", "retrieval_recall@3", "grounded_answer_rate", "evidence_in_answer_rate")))
    print(f"wrote {args.out}/results.jsonl and summary.json", file=sys.stderr)
    return 0


def cmd_calibrate(args) -> int:
    from app.engine import CALIBRATION
    from eval.calibrate import calibrate, dump
    from eval.schema import load_set

    items = [i for path in args.sets for i in load_set(path) if i.extras().get("split") == args.split]
    if not items:
        print(f"error: no items with split {args.split!r} in {', '.join(args.sets)}", file=sys.stderr)
        return 2
    print(f"calibrating on {len(items)} questions (split {args.split!r})", file=sys.stderr)
    result = calibrate(_engine(), items, args.max_wrong)
    result["calibrated_on"] = {"sets": args.sets, "split": args.split}
    result["command"] = "python -m eval calibrate " + " ".join(args.sets) + f" --split {args.split} --max-wrong {args.max_wrong}"
    out = Path(args.write) if args.write else CALIBRATION
    out.write_text(dump(result), encoding="utf-8")
    c = result["chosen"]
    print(f"answer_threshold={result['answer_threshold']} gap_answer_threshold={result['gap_answer_threshold']} -> "
          f"abstention_accuracy={c['abstention']['abstention_accuracy']} wrong_abstention_rate={c['abstention']['wrong_abstention_rate']}")
    print(f"topic_threshold={result['topic_threshold']} -> out_of_scope_caught={c['topic']['out_of_scope_caught']} "
          f"on_topic_pushed_out={c['topic']['on_topic_pushed_out']}")
    print(f"wrote {out} (with the trade-off curves)", file=sys.stderr)
    return 0


def cmd_train_safety(args) -> int:
    from app.classifier import MODEL_PATH, save_model
    from eval.schema import load_set
    from eval.train_safety import train

    items = [i for path in args.sets for i in load_set(path) if i.extras().get("split") == args.split]
    if not items:
        print(f"error: no items with split {args.split!r}", file=sys.stderr)
        return 2
    engine = _engine(safety_model=False)
    model, report = train(engine, items)
    report["trained_on"] = {"sets": args.sets, "split": args.split}
    save_model(model, MODEL_PATH, {"report": report})
    print(f"trained on {report['n_examples']} examples; thresholds and cross-validated recall: {report['cv']}")
    print(f"wrote {MODEL_PATH}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval", description="Evaluate the chatbot on question sets.")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a question set (JSONL) and write results.jsonl and summary.json")
    run.add_argument("set", help="question set, JSON Lines (see README: Question sets)")
    run.add_argument("--out", required=True, help="folder for the results (replaced if it exists)")
    run.add_argument("--split", help="only items whose 'split' field has this value (e.g. tune, heldout)")
    cal = sub.add_parser("calibrate", help="choose the abstention and scope thresholds on labelled sets")
    cal.add_argument("sets", nargs="+", help="question sets (JSONL)")
    cal.add_argument("--split", default="tune", help="only items of this split (default: tune; never the held-out one)")
    cal.add_argument("--max-wrong", type=float, default=0.03, help="largest share of answerable questions wrongly abstained")
    cal.add_argument("--write", help="where to write the calibration (default: app/data/calibration.json)")
    tr = sub.add_parser("train-safety", help="train the embedding safety classifier on labelled sets (tune split)")
    tr.add_argument("sets", nargs="+", help="question sets (JSONL)")
    tr.add_argument("--split", default="tune", help="only items of this split (default: tune)")
    args = ap.parse_args(argv)
    from app.records import BadInput  # noqa: F401  (light import; keeps errors below uniform)
    from eval.schema import SetError
    from index.embedder import ModelError
    from index.store import IndexProblem
    from kb.documents import DocumentError
    from app.settings import SettingsError

    try:
        return {"run": cmd_run, "calibrate": cmd_calibrate, "train-safety": cmd_train_safety}[args.command](args)
    except (SetError, ModelError, IndexProblem, DocumentError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
