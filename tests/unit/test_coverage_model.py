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
