"""`python -m eval run|compare|export|calibrate|train-safety|train-coverage|train-ranker|bench|load|ablation|embedders`: evaluation from the command line.

Exit status: 0 success; 1 a --fail-under/--fail-over threshold was missed; 2 bad input (a malformed
question set, a missing run folder, an unreachable server, a missing index or model).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SHOWN = ["outcome_accuracy", "retrieval_recall@3", "mrr", "grounded_answer_rate", "evidence_in_answer_rate", "quote_fidelity",
         "dosing_refusal_recall", "over_refusal_rate", "crisis_recall", "out_of_scope_accuracy", "abstention_accuracy",
         "answer_words_p50", "latency_ms_p50"]


def _engine(**kwargs):
    from app.engine import Engine
    from app.settings import load_settings

    return Engine.load(load_settings(), **kwargs)


def _items(paths: list[str], split: str | None):
    from eval.schema import SetError, load_set

    items = [i for p in paths for i in load_set(p)]
    if split:
        items = [i for i in items if i.extras().get("split") == split]
        if not items:
            raise SetError(f"no items with split {split!r} in {', '.join(paths)}")
    return items


def cmd_run(args) -> int:
    from eval.gate import check, parse
    from eval.report import html_page, markdown
    from eval.runner import InProcess, build_summary, progress_bar, run_items, write_run

    for spec in args.fail_under + args.fail_over:
        parse(spec)  # malformed thresholds stop the run before any work
    items = _items([args.set], args.split)
    print(f"{len(items)} questions from {args.set}", file=sys.stderr)
    if args.url:
        from eval.client import HttpAnswerer

        answerer = HttpAnswerer(args.url)
    else:
        answerer = InProcess(_engine())
    config = answerer.describe()
    results = run_items(items, answerer, progress_bar())
    summary = build_summary(results, config, str(args.set))
    problems = check(summary, args.fail_under, args.fail_over)
    summary["gate"] = {"fail_under": args.fail_under, "fail_over": args.fail_over, "problems": problems}
    write_run(Path(args.out), results, summary, {"report.md": markdown(summary, results), "report.html": html_page(summary, results)})
    o = summary["overall"]
    for name in SHOWN:
        print(f"  {name:<26} {o[name]}")
    for split, m in summary.get("by_split", {}).items():
        print(f"  [{split}] " + "  ".join(f"{k}={m[k]}" for k in ("outcome_accuracy", "retrieval_recall@3", "grounded_answer_rate", "evidence_in_answer_rate")))
    print(f"wrote {args.out}/ (results.jsonl, summary.json, report.md, report.html)", file=sys.stderr)
    if problems:
        print("gate failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


def cmd_compare(args) -> int:
    from eval.compare import compare, render

    print(render(compare(args.a, args.b)), end="")
    return 0


def cmd_export(args) -> int:
    from eval.export import export
    from kb import build_passages, load_documents
    from app.settings import load_settings

    items = _items([args.set], args.split)
    info = export(items, build_passages(load_documents(load_settings().docs_dir)), args.format, Path(args.out))
    print(f"exported {info} to {args.out}")
    return 0


def cmd_calibrate(args) -> int:
    from app.engine import CALIBRATION
    from eval.calibrate import calibrate, dump

    items = _items(args.sets, args.split)
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
    from eval.train_safety import train

    if args.leave_one_set_out:
        return _leave_one_set_out(args)
    items = _items(args.sets, args.split)
    try:
        model, report = train(_engine(safety_model=False), items, c=args.c, char_weight=args.char_weight)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report["trained_on"] = {"sets": args.sets, "split": args.split}
    save_model(model, MODEL_PATH, {"report": report})
    print(f"trained on {report['n_examples']} examples; thresholds and cross-validated recall: {report['cv']}")
    print(f"wrote {MODEL_PATH}", file=sys.stderr)
    return 0


def _share(part: int, whole: int) -> str:
    return "–" if not whole else f"{part / whole:.3f}"


def _with_total(rows: dict[str, dict[str, int]]) -> list[tuple[str, dict[str, int]]]:
    """The per-set rows of counts, then their sum as the row "all"."""
    return [*rows.items(), ("all", {k: sum(r[k] for r in rows.values()) for k in next(iter(rows.values()))})]


def _too_few_sets(args) -> bool:
    if len(args.sets) < 2:
        print("error: --leave-one-set-out needs at least two sets", file=sys.stderr)
        return True
    return False


def _leave_one_set_out(args) -> int:
    from eval.train_safety import FLAGGED, encode_sets, leave_one_set_out, replies_with

    if _too_few_sets(args):
        return 2
    engine = _engine(safety_model=False)
    sets = {Path(p).stem: _items([p], args.split) for p in args.sets}
    data = encode_sets(engine, sets)
    replies: dict[str, dict] = {}

    def answer_with(held: str, model) -> None:  # the same fitted models, read end to end
        replies[held] = replies_with(engine, model, sets[held])

    try:
        alone = leave_one_set_out(data, args.c, 0.0)
        both = leave_one_set_out(data, args.c, args.char_weight, engine.encoder.model_id, then=answer_with)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"each set read by a model fitted on the {args.split} split of the others (C={args.c}); recall, and on-topic questions flagged")
    print("| set | class | n | embedding alone | with character n-grams |")
    print("| --- | --- | --- | --- | --- |")
    cell = lambda r: f"{'–' if r['recall'] is None else format(r['recall'], '.3f')} / {'–' if r['on_topic_flagged'] is None else format(r['on_topic_flagged'], '.3f')}"  # noqa: E731
    for name, row in alone.items():
        for k, a in row.items():
            print(f"| {name} | {k} | {a['n']} | {cell(a)} | {cell(both[name][k])} |")
    print("\nthe whole policy (patterns, classifier, scope check) as users meet it, each set answered with the"
          " classifier fitted on the others: recall / share of on-topic questions given that kind")
    print("| set | " + " | ".join(FLAGGED) + " |")
    print("| --- |" + " --- |" * len(FLAGGED))
    for name, r in _with_total(replies):
        print(f"| {name} | " + " | ".join(f"{_share(r[f'{c}_hit'], r[f'{c}_n'])} / {_share(r[f'{c}_on_topic'], r['on_topic'])}" for c in FLAGGED) + " |")
    return 0


def cmd_train_ranker(args) -> int:
    from app.compose import RANKER_PATH, save_ranker
    from eval.train_ranker import collect, fit, leave_one_set_out

    if args.leave_one_set_out and _too_few_sets(args):
        return 2
    engine = _engine()
    collected = {Path(p).stem: collect(engine, _items([p], args.split)) for p in args.sets}
    sets = {name: groups for name, (groups, _) in collected.items()}
    if args.leave_one_set_out:
        print(f"top-1: share of answerable questions whose best unit holds the evidence; each set ranked by a ranker fitted on the {args.split} split of the others")
        print("in reply: share whose answering unit is among those the reply would quote (the best and those within the margin, at most 4)")
        print("| set | questions | top-1, hand-set score | top-1, learned ranker | in reply, hand-set score | in reply, learned ranker |")
        print("| --- | --- | --- | --- | --- | --- |")
        rows = leave_one_set_out(sets, args.c, {name: questions for name, (_, questions) in collected.items()})
        for name, r in rows.items():
            print(f"| {name} | {r['questions']} | {r['hand_set']:.3f} | {r['learned']:.3f} | {r['hand_set_in_reply']:.3f} | {r['learned_in_reply']:.3f} |")
        print()
        print(f"passages reordered by their best sentence (the first {engine.settings.retrieval.rerank_passages} fused hits, and for a "
              "follow-up those around what the previous reply quoted), same rankers:")
        print("| set | answerable | recall@3, fused order | recall@3, reordered | MRR, fused order | MRR, reordered |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, r in rows.items():
            print(f"| {name} | {r['answerable']} | {r['recall3_fused']:.3f} | {r['recall3_reordered']:.3f} | {r['mrr_fused']:.3f} | {r['mrr_reordered']:.3f} |")
        return 0
    groups = [g for gs in sets.values() for g in gs]
    if not groups:
        print("error: no answerable question with evidence among its candidates; nothing to learn from", file=sys.stderr)
        return 2
    ranker, report = fit(groups, args.c)
    report["trained_on"] = {"sets": args.sets, "split": args.split}
    out = Path(args.out) if args.out else RANKER_PATH
    save_ranker(ranker, engine.encoder.model_id, out, {"report": report})
    print(f"trained on {report['n_questions']} questions ({report['n_pairs']} pairs); top-1 on them {report['top1_training']} "
          f"(hand-set score {report['top1_hand_set']}); margin for extra quotes {report['margin']}")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_train_coverage(args) -> int:
    from app.classifier import COVERAGE_PATH, save_model
    from eval.train_coverage import features, fit, leave_one_set_out, pooled

    if args.leave_one_set_out and _too_few_sets(args):
        return 2
    engine = _engine(safety_model=False)
    sets = {Path(p).stem: features(engine, _items([p], args.split)) for p in args.sets}
    try:
        if args.leave_one_set_out:
            rows = leave_one_set_out(sets, args.max_wrong)
            print(f"each set judged by coverage models fitted on the {args.split} split of the others (threshold: at most "
                  f"{args.max_wrong} of their answerable questions wrongly flagged, cross-validated); "
                  "not-in-sources questions caught / answerable ones wrongly flagged")
            print("| set | answerable | not in sources | embedding alone | with retrieval signals |")
            print("| --- | --- | --- | --- | --- |")
            for name, r in _with_total(rows):
                print(f"| {name} | {r['answerable']} | {r['not_in_sources']} | " + " | ".join(
                    f"{_share(r[k + '_caught'], r['not_in_sources'])} / {_share(r[k + '_wrong'], r['answerable'])}"
                    for k in ("embedding", "with_signals")) + " |")
            return 0
        model, report = fit(*pooled(sets.values()), engine.encoder.model_id, max_wrong=args.max_wrong)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report["trained_on"] = {"sets": args.sets, "split": args.split}
    out = Path(args.out) if args.out else COVERAGE_PATH
    save_model(model, out, {"passages_hash": engine.index.manifest.passages_hash, "report": report})
    print(f"trained on {report['n_answerable']} answerable and {report['n_not_in_sources']} not-in-sources questions; "
          f"threshold {report['threshold']}: cross-validated abstention recall {report['cv_abstention_recall']}, "
          f"wrongly abstained {report['cv_wrongly_abstained']}")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_bench(args) -> int:
    from eval.bench import main as bench_main

    return bench_main(args)


def cmd_ablation(args) -> int:
    from eval.ablation import ablation, table

    items = _items([args.set], args.split)
    print(table(ablation(_engine(), items)), end="")
    return 0


def cmd_embedders(args) -> int:
    from eval.embedders import compare

    print(compare(args.sets, args.model, args.split), end="")
    return 0


def cmd_load(args) -> int:
    from eval.load import main as load_main

    return load_main(args)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m eval", description="Evaluate the chatbot on question sets.")
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a question set and write results, summary and reports")
    run.add_argument("set", help="question set, JSON Lines (README: Question sets)")
    run.add_argument("--out", required=True, help="folder for the run (replaced when the run completes)")
    run.add_argument("--url", help="evaluate a running server through its HTTP API instead of in-process")
    run.add_argument("--split", help="only items whose 'split' field has this value (e.g. tune, heldout)")
    run.add_argument("--fail-under", action="append", default=[], metavar="METRIC=VALUE",
                     help="exit 1 if METRIC (or SPLIT/METRIC, expect:KIND/METRIC) is below VALUE; repeatable")
    run.add_argument("--fail-over", action="append", default=[], metavar="METRIC=VALUE",
                     help="exit 1 if METRIC is above VALUE (for rates where lower is better); repeatable")
    cmp_ = sub.add_parser("compare", help="metric deltas and changed items between two runs")
    cmp_.add_argument("a")
    cmp_.add_argument("b")
    exp = sub.add_parser("export", help="export a question set for BEIR or RAGAS")
    exp.add_argument("set")
    exp.add_argument("out")
    exp.add_argument("--format", required=True, choices=["beir", "ragas"])
    exp.add_argument("--split")
    def learning(name: str, help: str) -> argparse.ArgumentParser:
        """A command that learns from labelled sets, on one split only (never the held-out one)."""
        p = sub.add_parser(name, help=help)
        p.add_argument("sets", nargs="+")
        p.add_argument("--split", default="tune", help="only items of this split (default: tune; never the held-out one)")
        return p

    cal = learning("calibrate", "choose the abstention and scope thresholds on labelled sets")
    cal.add_argument("--max-wrong", type=float, default=0.03, help="largest share of answerable questions wrongly abstained")
    cal.add_argument("--write", help="where to write the calibration (default: app/data/calibration.json)")
    tr = learning("train-safety", "train the embedding safety classifier on labelled sets")
    tr.add_argument("--c", type=float, default=10.0, help="inverse regularisation strength of the logistic regression")
    tr.add_argument("--char-weight", type=float, default=2.0, help="weight of the character n-gram features (0: embedding alone)")
    tr.add_argument("--leave-one-set-out", action="store_true",
                    help="measure instead of train: each set read by a model fitted on the others, with and without n-grams")
    tk = learning("train-ranker", "train the ranker that picks which source sentences answer")
    tk.add_argument("--c", type=float, default=0.01, help="inverse regularisation strength of the pairwise logistic regression")
    tk.add_argument("--out", help="where to write the ranker (default: app/data/ranker.json)")
    tk.add_argument("--leave-one-set-out", action="store_true",
                    help="measure instead of train: each set ranked by a ranker fitted on the others, against the hand-set score")
    tc = learning("train-coverage", "train the model that tells answerable questions from ones the sources do not cover")
    tc.add_argument("--max-wrong", type=float, default=0.03, help="largest cross-validated share of answerable questions wrongly abstained")
    tc.add_argument("--out", help="where to write the model (default: app/data/coverage_model.json)")
    tc.add_argument("--leave-one-set-out", action="store_true",
                    help="measure instead of train: each set judged by models fitted on the others, embedding alone and with retrieval signals")
    bench = sub.add_parser("bench", help="performance benchmark (README: Performance)")
    bench.add_argument("--out", required=True)
    bench.add_argument("--quick", action="store_true", help="fewer repetitions and no 1M-passage run")
    abl = sub.add_parser("ablation", help="retrieval modes with and without history handling, as a table")
    abl.add_argument("set")
    abl.add_argument("--split")
    emb = sub.add_parser("embedders", help="dense retrieval with the configured embedding model against other model folders")
    emb.add_argument("sets", nargs="+")
    emb.add_argument("--model", action="append", default=[], metavar="PATH", help="a local sentence-transformers model folder; repeatable")
    emb.add_argument("--split", help="only items of this split")
    load = sub.add_parser("load", help="bounded load test of the API on 127.0.0.1, with an optional memory soak")
    load.add_argument("--out", required=True)
    load.add_argument("--requests", type=int, default=320, help="requests per concurrency level")
    load.add_argument("--soak-seconds", type=float, default=0, help="soak duration at 8 clients (e.g. 300)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from app.classifier import ClassifierError
    from app.settings import SettingsError
    from eval.client import RemoteError
    from eval.compare import CompareError
    from eval.gate import GateError
    from eval.schema import SetError
    from index.embedder import ModelError
    from index.store import IndexProblem
    from kb.documents import DocumentError

    commands = {"run": cmd_run, "compare": cmd_compare, "export": cmd_export, "calibrate": cmd_calibrate,
                "train-safety": cmd_train_safety, "train-coverage": cmd_train_coverage, "train-ranker": cmd_train_ranker, "bench": cmd_bench, "load": cmd_load, "ablation": cmd_ablation, "embedders": cmd_embedders}
    try:
        return commands[args.command](args)
    except (SetError, ModelError, IndexProblem, DocumentError, SettingsError, RemoteError, CompareError, GateError, ClassifierError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no run folder was written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
