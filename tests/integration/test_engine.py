"""The real engine (real model, real FAISS index) end to end: every kind, verbatim quotes, bad input."""

from __future__ import annotations

import re
import shutil

import pytest

from app.guard import has_dose_number
from app.records import BadInput
from eval.metrics import quote_segments
from eval.textmatch import contains


def _assert_verbatim(reply):
    """Every quoted sentence of the reply lies inside the passage its marker cites."""
    segments = quote_segments(reply.text)
    assert segments, reply.text
    by_number = {c.number: c.passage.text for c in reply.citations}
    for sentence, numbers in segments:
        assert any(contains(by_number[n], sentence) for n in numbers), (sentence, numbers)


def test_answers_with_verbatim_cited_quotes(engine):
    reply = engine.answer("How is esketamine usually given?")
    assert reply.kind == "answer"
    assert "nasal spray" in reply.text
    _assert_verbatim(reply)
    assert reply.notice and "not medical advice" in reply.notice
    assert [c.number for c in reply.citations] == list(range(1, len(reply.citations) + 1))


def test_typo_and_lay_words_still_find_the_answer(engine):
    reply = engine.answer("how long dose a ketamin iv drip visit take")
    assert reply.kind == "answer"
    assert "90 minutes" in reply.text
    _assert_verbatim(reply)


@pytest.mark.parametrize("question, quoted", [
    ("¿la ketamina puede causar adicción?", "addict"),                   # Spanish: addiction, passage on risks
    ("est-ce que la kétamine abîme la mémoire ?", "short-term memory"),   # French: side effects
    ("wie lange dauert so eine ketamin-infusion?", "90 minutes"),          # German: the visit
])
def test_questions_in_other_languages_find_the_passage_that_answers(engine, question, quoted):
    """The model is English-only; the glossary's English for the foreign key terms is what finds
    the passage (with the former 17-term glossary, two of these three got no answer)."""
    reply = engine.answer(question)
    assert reply.kind == "answer", reply.reason
    assert quoted in reply.text
    _assert_verbatim(reply)


def test_follow_up_uses_the_conversation(engine):
    history = [{"role": "user", "content": "Does ketamine help people with OCD?"},
               {"role": "assistant", "content": "A trial of 15 patients with OCD found effects lasting over a week."}]
    reply = engine.answer("how long did it last?", history)
    assert reply.kind == "answer"
    assert "OCD" in reply.query  # the previous turn was searched along with the follow-up
    assert "more than a week" in reply.text


def test_a_follow_up_is_read_against_what_the_previous_reply_quoted(engine):
    """The previous reply, as the engine wrote it (markers, paragraph breaks), is traced back to
    exactly the units it quoted; the follow-up's pool also holds those passages and their
    neighbours, and it gets a reply of its own. A self-contained new question ignores it."""
    from app.compose import _units, around_said

    first = engine.answer("what are the side effects of ketamine?")
    assert first.kind == "answer"
    history = [{"role": "user", "content": "what are the side effects of ketamine?"}, {"role": "assistant", "content": first.text}]
    _, turns, queries, dense = engine.prepare("and do they go away?", history)
    said = engine.said_before(turns, queries)
    by_order = {o: t for pi in range(len(engine.index.passages)) for o, t, *_ in _units(engine.index, pi)}
    assert {by_order[o] for o in said} == {q for c in first.citations for q in c.quotes}
    vecs = engine.encoder.encode(dense)
    hits, _ = engine.retrieve(queries, dense, vecs, said)
    quoted, beside = around_said(engine.index, said)
    found = {engine.index.position[h.passage.passage_id] for h in hits}
    pool = {engine.index.position[h.passage.passage_id] for h in engine.rerank_pool(hits, said)}
    assert len(hits) > engine.settings.retrieval.rerank_passages  # searched deeper than a new question
    assert quoted & found and (quoted | beside) & found <= pool  # wherever retrieval ranked them, the ranker reads them
    reply = engine.answer("and do they go away?", history)
    assert reply.kind == "answer" and reply.text != first.text
    saved = engine.settings
    try:
        engine.settings = saved.model_copy(update={"retrieval": saved.retrieval.model_copy(update={"read_previous_reply": False})})
        assert engine.said_before(turns, queries) == frozenset()  # the switch turns it off
    finally:
        engine.settings = saved
    _, turns, queries, _ = engine.prepare("Is ketamine approved by the FDA for depression?", history)
    assert len(queries) == 1 and engine.said_before(turns, queries) == frozenset()


def test_passages_are_reordered_by_their_best_sentence(engine):
    """With the learned ranker, the passage holding the best-ranked sentence comes first and the
    answer quotes only the best four; with rerank_passages 0 the fused order stays."""
    from app.compose import HAND_SET

    assert engine.ranker is not HAND_SET  # the shipped ranker.json is loaded
    _, _, queries, dense = engine.prepare("is ketamine addictive like opioids?")
    vecs = engine.encoder.encode(dense)
    fused, stems = engine.retrieve(queries, dense, vecs)
    assert len(fused) >= engine.settings.retrieval.rerank_passages
    hits, units = engine.units(fused, vecs, stems)
    top = units[0]
    assert engine.index.position[hits[0].passage.passage_id] == top.passage_index
    assert {h.passage.passage_id for h in hits} == {h.passage.passage_id for h in fused}
    allowed = {engine.index.position[h.passage.passage_id] for h in hits[: engine.settings.retrieval.candidate_passages]}
    assert {u.passage_index for u in units} <= allowed
    saved = engine.settings
    try:
        engine.settings = saved.model_copy(update={"retrieval": saved.retrieval.model_copy(update={"rerank_passages": 0})})
        plain, _ = engine.units(fused, vecs, stems)
    finally:
        engine.settings = saved
    assert plain == fused


def test_dosing_request_is_refused_without_amounts(engine):
    reply = engine.answer("how many mg of ketamine should I take for my anxiety?")
    assert reply.kind == "refuse_dosing"
    assert not reply.citations and not has_dose_number(reply.text)
    assert "clinician" in reply.text


def test_crisis_reply_puts_help_first(engine):
    reply = engine.answer("I don't want to wake up anymore")
    assert reply.kind == "crisis"
    first_lines = reply.text[:400]
    assert "911" in first_lines and "988" in first_lines


def test_out_of_scope(engine):
    assert engine.answer("what's a good recipe for banana bread?").kind == "out_of_scope"


def test_not_in_sources_names_no_answer_but_related(engine):
    reply = engine.answer("Does ketamine help with ADHD?")
    assert reply.kind == "not_in_sources"
    assert not reply.citations
    assert "don't cover" in reply.text


@pytest.mark.parametrize(
    ("message", "expected"),
    [("", "Please type a question"), ("   \n\t ", "Please type a question"),
     ("x" * 20_000, "20,000 characters long; the limit is 1,000"),
     ("\x00\x01\x02\x03binary\x04\x05\x06\x07\x08", "can't be read as text")],
    ids=["empty", "whitespace", "20000-chars", "control-chars"],
)
def test_bad_input_gets_a_clear_message(engine, message, expected):
    with pytest.raises(BadInput, match=re.escape(expected)):
        engine.answer(message)


def test_a_stray_control_character_is_ignored(engine):
    assert engine.answer("how is esketamine\x07 given?").kind == "answer"


def test_corrupt_index_file_gives_rebuild_message(settings, real_index_dir, tmp_path):
    from app.engine import Engine
    from index.store import IndexProblem

    broken = tmp_path / "index"
    shutil.copytree(real_index_dir, broken)
    (broken / "sentences.faiss").write_bytes(b"this is not a faiss index")
    with pytest.raises(IndexProblem, match="python -m index build"):
        Engine.load(settings.model_copy(update={"index_dir": broken}))


def test_stale_index_is_detected(settings, real_index_dir, tmp_path):
    from app.engine import Engine
    from index.store import IndexProblem

    docs = tmp_path / "docs"
    shutil.copytree(settings.docs_dir, docs)
    (docs / "extra.txt").write_text("A New Document\n\nKetamine is discussed here in one more sentence.\n")
    with pytest.raises(IndexProblem, match="documents have changed"):
        Engine.load(settings.model_copy(update={"docs_dir": docs}))


def test_the_coverage_model_is_shown_what_training_records(engine):
    """A single question's own embedding; a follow-up's mean of its embeddings alone and with the
    previous turn: what `eval train-coverage` records and learns from is what the model reads."""
    import numpy as np

    from eval.calibrate import thresholds_off
    from eval.train_coverage import _Recorder

    recorder = _Recorder()
    history = [{"role": "user", "content": "how is ketamine given for depression?"}]
    with thresholds_off(engine, coverage=recorder):
        engine.answer("Does insurance pay for ketamine infusions?")
        single = recorder.seen[0]
        engine.answer("and does insurance pay for that?", history)
        follow = recorder.seen[0]
    _, _, queries, dense = engine.prepare("and does insurance pay for that?", history)
    assert len(queries) == 2  # read as a follow-up
    alone, context = engine.encoder.encode(dense)
    assert np.allclose(single, engine.encoder.encode([engine.dense_text("Does insurance pay for ketamine infusions?")])[0], atol=1e-5)
    assert np.allclose(follow, (alone + context) / np.linalg.norm(alone + context), atol=1e-5)
    assert not np.allclose(follow, context, atol=1e-3)
