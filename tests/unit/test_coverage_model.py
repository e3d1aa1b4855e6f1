"""The coverage model is tied to the documents it learned: a changed corpus switches it off."""

from __future__ import annotations

import logging

import numpy as np

from app.classifier import SafetyModel, load_coverage, save_model


def _model() -> SafetyModel:
    coef = np.vstack([np.zeros(4), np.array([1.0, 0, 0, 0])]).astype(np.float32)
    return SafetyModel(("covered", "not_in_sources"), coef, np.zeros(2, dtype=np.float32), {"not_in_sources": 0.6}, "fake@1")


def test_the_model_flags_by_its_threshold(tmp_path):
    path = tmp_path / "coverage.json"
    save_model(_model(), path, {"passages_hash": "abc"})
    m = load_coverage(path, "fake@1", "abc")
    assert m.flags(np.array([3.0, 0, 0, 0])) == {"not_in_sources": m.proba(np.array([3.0, 0, 0, 0]))["not_in_sources"]}
    assert m.flags(np.array([-3.0, 0, 0, 0])) == {}


def test_a_model_for_other_documents_is_not_used(tmp_path, caplog):
    path = tmp_path / "coverage.json"
    save_model(_model(), path, {"passages_hash": "abc"})
    with caplog.at_level(logging.WARNING):
        assert load_coverage(path, "fake@1", "def") is None
    assert "train-coverage" in caplog.text


def test_no_model_file_means_no_model(tmp_path):
    assert load_coverage(tmp_path / "missing.json", "fake@1", "abc") is None


def test_a_corrupt_coverage_model_names_the_command_that_rebuilds_it(tmp_path):
    import pytest

    from app.classifier import ClassifierError

    path = tmp_path / "coverage.json"
    path.write_text("{not json")
    with pytest.raises(ClassifierError, match="train-coverage"):
        load_coverage(path, "fake@1", "abc")


def _reading_model() -> SafetyModel:
    """Reads the embedding (4 dims) and two signals; only the standardised confidence carries weight."""
    from app.classifier import Signals

    coef = np.vstack([np.zeros(6), np.array([0, 0, 0, 0, -2.0, 0])]).astype(np.float32)
    signals = Signals(("confidence", "gaps"), np.array([0.5, 1.0], dtype=np.float32), np.array([0.25, 1.0], dtype=np.float32))
    return SafetyModel(("covered", "not_in_sources"), coef, np.zeros(2, dtype=np.float32), {"not_in_sources": 0.6}, "fake@1",
                       signals=signals)


def test_a_model_that_reads_retrieval_signals_keeps_them_through_its_file(tmp_path):
    path = tmp_path / "coverage.json"
    save_model(_reading_model(), path, {"passages_hash": "abc"})
    m = load_coverage(path, "fake@1", "abc")
    zero = np.zeros(4)
    # a weak best sentence (below the training mean) reads as uncovered, a strong one as covered
    assert "not_in_sources" in m.flags(zero, "", {"confidence": 0.1, "gaps": 0})
    assert m.flags(zero, "", {"confidence": 0.9, "gaps": 0}) == {}
    assert m.proba(zero, "", {"confidence": 0.1, "gaps": 0}) == _reading_model().proba(zero, "", {"confidence": 0.1, "gaps": 0})


def test_a_model_that_reads_signals_says_which_are_missing():
    import pytest

    with pytest.raises(ValueError, match="gaps"):
        _reading_model().proba(np.zeros(4), "", {"confidence": 0.5})


def test_signals_that_do_not_match_their_scales_are_a_corrupt_model(tmp_path):
    import json

    import pytest

    from app.classifier import ClassifierError

    path = tmp_path / "coverage.json"
    save_model(_reading_model(), path, {"passages_hash": "abc"})
    d = json.loads(path.read_text())
    d["signals"]["scale"] = [0.25]
    path.write_text(json.dumps(d))
    with pytest.raises(ClassifierError, match="train-coverage"):
        load_coverage(path, "fake@1", "abc")


def test_retrieval_signals_are_named_numbers():
    from app.coverage import SIGNALS, retrieval_signals

    s = retrieval_signals(0.4, 0.1, 0.5, 0.03, 5, True, False)
    assert tuple(s) == SIGNALS
    assert s["has_gap"] == 1.0 and s["gaps"] == 3.0  # many gap words count as a few
    assert retrieval_signals(0.4, 0.1, 0.5, 0.03, 0, False, True)["has_gap"] == 0.0


def test_the_coverage_model_reads_a_follow_up_halfway_between_alone_and_in_context():
    from app.engine import coverage_vector

    alone, context = np.array([1.0, 0, 0, 0], dtype=np.float32), np.array([0, 1.0, 0, 0], dtype=np.float32)
    assert np.array_equal(coverage_vector(np.stack([alone])), alone)
    mean = coverage_vector(np.stack([alone, context]))
    assert np.isclose(np.linalg.norm(mean), 1.0)  # unit length, as the embeddings it was trained on
    assert np.isclose(mean @ alone, mean @ context) and mean @ alone > 0.7  # equally close to both
    assert mean.dtype == np.float32
