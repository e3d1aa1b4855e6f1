"""`python -m eval` as reviewers use it: validation, in-process and HTTP runs, the gate, reports,
compare and export. Runs the real CLI in a subprocess to check exit statuses and files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"id": "q1", "question": "how is esketamine given?", "expect": "answer",
        "evidence": ["esketamine via nasal spray"], "split": "tune", "note": "kept"}


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "eval", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def write_set(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(("rows", "message"), [
    (["{not json"], "line 1: not valid JSON"),
    ([{"id": "a", "expect": "answer", "evidence": ["x"]}], "line 1: field 'question'"),
    ([{"id": "a", "question": 5, "expect": "crisis"}], "line 1: field 'question'"),
    ([{"id": "a", "question": "q", "expect": "maybe"}], "line 1: field 'expect': unknown value 'maybe'"),
    ([GOOD, GOOD], "line 2: field 'id': duplicate id 'q1'"),
    ([{"id": "a", "question": "q", "expect": "answer"}], "line 1: field 'evidence'"),
    ([{"id": "a", "question": "q", "expect": "crisis", "history": [{"role": "bot", "content": "x"}]}], "line 1: field 'history.0.role'"),
    (["[1, 2]"], "line 1: expected a JSON object"),
], ids=["json", "missing", "type", "expect", "duplicate", "evidence", "history", "not-object"])
def test_malformed_sets_stop_before_any_work(tmp_path, rows, message):
    out = tmp_path / "run"
    p = run_cli("run", str(write_set(tmp_path / "set.jsonl", rows)), "--out", str(out))
    assert p.returncode == 2
    assert message in p.stderr
    assert not out.exists() and not (tmp_path / "run.partial").exists()


def _strip_timings(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for r in rows:
        r.pop("latency_ms")
    return rows


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    rows = [json.loads(line) for line in (ROOT / "eval/sets/dev.jsonl").read_text().splitlines()][:12]
    return write_set(tmp_path_factory.mktemp("sets") / "small.jsonl", rows)


def test_run_writes_every_file_and_is_reproducible(tmp_path, small_set, real_index_dir):
    env = {"KETA_INDEX_DIR": str(real_index_dir)}
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("run", str(small_set), "--out", str(a), env=env).returncode == 0
    assert run_cli("run", str(small_set), "--out", str(b), env=env).returncode == 0
    for name in ("results.jsonl", "summary.json", "report.md", "report.html"):
        assert (a / name).is_file()
    assert _strip_timings(a / "results.jsonl") == _strip_timings(b / "results.jsonl")
    first = json.loads((a / "results.jsonl").read_text().splitlines()[0])
    assert {"id", "expect", "kind", "answer", "citations", "retrieved", "latency_ms", "split"} <= set(first)
    summary = json.loads((a / "summary.json").read_text())
    assert summary["config"]["model"].startswith("all-MiniLM-L6-v2")
    assert set(summary["by_split"]) <= {"tune", "heldout"}

    c = run_cli("compare", str(a), str(b))
    assert c.returncode == 0 and "fixed (0)" in c.stdout and "broken (0)" in c.stdout


def test_gate_fails_a_run_that_misses_a_threshold(tmp_path, small_set, real_index_dir):
    p = run_cli("run", str(small_set), "--out", str(tmp_path / "r"), "--fail-under", "quote_fidelity=1.01",
                "--fail-over", "latency_ms_p50=0", env={"KETA_INDEX_DIR": str(real_index_dir)})
    assert p.returncode == 1
    assert "quote_fidelity = 1.0 is below 1.01" in p.stderr and "latency_ms_p50" in p.stderr
    assert (tmp_path / "r" / "summary.json").is_file()  # the run itself is complete and reviewable


def test_remote_run_matches_in_process(tmp_path, small_set, server, real_index_dir):
    local, remote = tmp_path / "local", tmp_path / "remote"
    assert run_cli("run", str(small_set), "--out", str(local), env={"KETA_INDEX_DIR": str(real_index_dir)}).returncode == 0
    p = run_cli("run", str(small_set), "--out", str(remote), "--url", server.url)
    assert p.returncode == 0, p.stderr
    kinds = lambda d: [(r["id"], r["kind"], r["answer"]) for r in _strip_timings(d / "results.jsonl")]  # noqa: E731
    assert kinds(local) == kinds(remote)
    assert json.loads((remote / "summary.json").read_text())["config"]["mode"] == "http"


def test_unreachable_server_is_a_clear_error(tmp_path, small_set):
    p = run_cli("run", str(small_set), "--out", str(tmp_path / "r"), "--url", "http://127.0.0.1:9")
    assert p.returncode == 2 and "cannot reach http://127.0.0.1:9" in p.stderr


def test_export_beir_and_ragas(tmp_path, small_set):
    assert run_cli("export", str(small_set), str(tmp_path / "beir"), "--format", "beir").returncode == 0
    qrels = (tmp_path / "beir" / "qrels" / "test.tsv").read_text().splitlines()
    corpus_ids = {json.loads(line)["_id"] for line in (tmp_path / "beir" / "corpus.jsonl").read_text().splitlines()}
    assert qrels[0] == "query-id\tcorpus-id\tscore" and len(qrels) > 1
    assert all(row.split("\t")[1] in corpus_ids for row in qrels[1:])
    assert run_cli("export", str(small_set), str(tmp_path / "ragas"), "--format", "ragas").returncode == 0
    rows = [json.loads(line) for line in (tmp_path / "ragas" / "dataset.jsonl").read_text().splitlines()]
    assert len(rows) == 12 and all("user_input" in r and "reference_contexts" in r for r in rows)


def test_train_coverage_learns_what_the_sources_leave_open(tmp_path):
    out = tmp_path / "coverage.json"
    sets = [f"eval/sets/{n}.jsonl" for n in ("dev", "safety", "safety2", "safety3", "lay", "lay2")]
    p = run_cli("train-coverage", *sets, "--out", str(out))
    assert p.returncode == 0, p.stderr
    model = json.loads(out.read_text())
    report = model["report"]
    assert model["classes"] == ["covered", "not_in_sources"] and len(model["passages_hash"]) >= 16
    # it reads retrieval's signals beside the embedding, standardised by what training saw
    from app.coverage import SIGNALS

    assert model["signals"]["names"] == list(SIGNALS) and all(s > 0 for s in model["signals"]["scale"])
    # the threshold was chosen on cross-validated probabilities within the budget of wrong abstentions
    assert report["cv_wrongly_abstained"] <= report["max_wrong"] == 0.03
    assert report["cv_abstention_recall"] > 0.4  # the similarity threshold alone catches about 0.1 at this budget
    assert report["trained_on"]["split"] == "tune"


def test_train_coverage_leave_one_set_out_measures_instead_of_training(tmp_path):
    out = tmp_path / "coverage.json"
    p = run_cli("train-coverage", "eval/sets/dev.jsonl", "eval/sets/lay.jsonl", "eval/sets/lay2.jsonl", "--leave-one-set-out", "--out", str(out))
    assert p.returncode == 0, p.stderr
    rows = {line.split("|")[1].strip(): line for line in p.stdout.splitlines() if line.startswith("| ")}
    assert {"dev", "lay", "lay2", "all"} <= set(rows) and "with retrieval signals" in p.stdout
    # each cell is "caught / wrongly flagged", both shares
    for cell in rows["all"].split("|")[4:6]:
        caught, wrong = (float(x) for x in cell.split("/"))
        assert 0.0 <= caught <= 1.0 and 0.0 <= wrong <= 1.0
    assert not out.exists()  # measuring writes no model


def test_train_coverage_refuses_a_set_without_both_kinds(tmp_path):
    rows = [{**GOOD, "id": f"q{i}"} for i in range(8)]
    p = run_cli("train-coverage", str(write_set(tmp_path / "set.jsonl", rows)), "--out", str(tmp_path / "c.json"))
    assert p.returncode == 2
    assert "at least 5 answerable and 5 not-in-sources" in p.stderr
    assert not (tmp_path / "c.json").exists()


def test_train_ranker_learns_which_sentences_answer(tmp_path):
    from app.compose import FEATURES

    out = tmp_path / "ranker.json"
    p = run_cli("train-ranker", "eval/sets/dev.jsonl", "eval/sets/lay.jsonl", "--out", str(out))
    assert p.returncode == 0, p.stderr
    d = json.loads(out.read_text())
    assert d["features"] == list(FEATURES) and len(d["coef"]) == len(FEATURES) and d["margin"] > 0
    report = d["report"]
    assert report["trained_on"]["split"] == "tune" and report["n_questions"] > 100
    # on the questions it learned from, it puts an answering sentence first more often than the hand-set score
    assert report["top1_training"] > report["top1_hand_set"]


@pytest.mark.parametrize("command", ["train-ranker", "train-safety"])
def test_leave_one_set_out_needs_two_sets(command):
    p = run_cli(command, "eval/sets/dev.jsonl", "--leave-one-set-out")
    assert p.returncode == 2
    assert "needs at least two sets" in p.stderr


def test_leave_one_set_out_says_when_the_other_sets_cannot_train_a_classifier():
    # lay holds on-topic questions only: without dev, nothing is left to tell crisis or dosing from
    p = run_cli("train-safety", "eval/sets/dev.jsonl", "eval/sets/lay.jsonl", "--leave-one-set-out")
    assert p.returncode == 2
    assert "without dev, the other sets hold one kind of message only" in p.stderr
    assert "Traceback" not in p.stderr


def test_ablation_compares_the_modes_and_the_reordering(tmp_path):
    rows = [GOOD, {"id": "q2", "question": "is ketamine addictive?", "expect": "answer",
                   "evidence": ["less addictive than opioids"], "split": "tune"}]
    p = run_cli("ablation", str(write_set(tmp_path / "set.jsonl", rows)))
    assert p.returncode == 0, p.stderr
    names = [line.split("|")[1].strip() for line in p.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert names[:6] == [f"{m}, history {h}" for m in ("dense", "bm25", "hybrid") for h in ("off", "on")]
    assert len(names) == 8 and names[6].startswith("hybrid, history on, fused order")
    assert names[7].startswith("hybrid, history on, previous reply not read")


def test_embedders_compares_models_on_dense_retrieval(tmp_path):
    from index.embedder import default_model_path

    rows = [GOOD, {"id": "q2", "question": "is ketamine addictive?", "expect": "answer",
                   "evidence": ["less addictive than opioids"], "split": "tune"},
            {"id": "q3", "question": "and for ocd?", "expect": "answer", "evidence": ["obsessive-compulsive disorder"],
             "history": [{"role": "user", "content": "does it help ptsd"}, {"role": "assistant", "content": "..."}]}]
    path = str(write_set(tmp_path / "mine.jsonl", rows))
    p = run_cli("embedders", path, "--model", str(default_model_path()))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("2 single-turn answerable questions")  # the follow-up is left out
    table = [[c.strip() for c in line.split("|")[1:-1]] for line in p.stdout.splitlines() if line.startswith("| ")]
    assert [r[:2] for r in table[2:]] == [["mine", "2"], ["all", "2"]]
    assert table[3][2:5] == table[3][5:8]  # the same model twice ranks the same
    bad = run_cli("embedders", path, "--model", str(tmp_path))
    assert bad.returncode == 2 and "no sentence-transformers model" in bad.stderr
    none = run_cli("embedders", str(write_set(tmp_path / "crisis.jsonl", [{"id": "c", "question": "q", "expect": "crisis"}])))
    assert none.returncode == 2 and "no single-turn answerable questions" in none.stderr
