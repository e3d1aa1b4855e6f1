import json

import numpy as np
import pytest

from index.store import (
    FILES,
    IndexProblem,
    build_index,
    center,
    ensure_index,
    load_index,
    passage_embedding_text,
    save_index,
    sentence_refs,
)
from kb.passages import Passage

HINT = "python -m index build"


@pytest.fixture
def saved(tmp_path, small_passages, encoder):
    folder = tmp_path / "build" / "index"
    save_index(build_index(small_passages, encoder), folder)
    return folder


def test_build_index_counts(small_passages, encoder):
    idx = build_index(small_passages, encoder)
    # 4 passages of 2 sentences each (see conftest.SMALL_DOC)
    assert idx.passage_vectors.ntotal == 4
    assert idx.sentence_vectors.ntotal == 8
    assert idx.manifest.n_sentences == 8 and idx.manifest.dim == 32
    assert idx.means.shape == (2, 32)
    # stored vectors are centred and re-normalised: unit length
    stored = idx.passage_vectors.reconstruct_n(0, 4)
    np.testing.assert_allclose(np.linalg.norm(stored, axis=1), np.ones(4), atol=1e-5)


def test_build_index_refuses_no_passages(encoder):
    with pytest.raises(IndexProblem):
        build_index([], encoder)


def test_sentence_refs_and_first_sentence(small_passages, encoder):
    refs = sentence_refs(small_passages)
    assert refs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1], [3, 0], [3, 1]]
    idx = build_index(small_passages, encoder)
    # cumulative sentence counts 0, 2, 4, 6
    assert idx.first_sentence.tolist() == [0, 2, 4, 6]
    assert idx.sentence_text(5) == "Glutamate helps neurons communicate."


def test_passage_embedding_text_prefixes_section(small_passages):
    p = small_passages[0]
    assert passage_embedding_text(p) == "Infusions. " + p.text
    bare = Passage("x-000", "x", "T", "", "Body.", 0, 5, ((0, 5),))
    assert passage_embedding_text(bare) == "Body."


def test_center_hand_vectors():
    # (1,1,0) - mean (1,0,0) = (0,1,0) -> unit already; (3,0,0) - (1,0,0) = (2,0,0) -> (1,0,0)
    out = center(np.array([[1.0, 1.0, 0.0], [3.0, 0.0, 0.0]]), np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(out, [[0, 1, 0], [1, 0, 0]], atol=1e-6)


def test_round_trip(saved, small_passages, encoder):
    loaded = load_index(saved, small_passages, encoder.model_id)
    assert loaded.passages == small_passages
    assert loaded.passage_vectors.ntotal == len(small_passages)
    assert loaded.sentence_vectors.ntotal == 8
    fresh = build_index(small_passages, encoder)
    np.testing.assert_allclose(
        loaded.passage_vectors.reconstruct_n(0, 4), fresh.passage_vectors.reconstruct_n(0, 4), atol=1e-6
    )
    np.testing.assert_allclose(loaded.means, fresh.means, atol=1e-6)
    # the manifest on disk is plain JSON with the passage hash
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["n_passages"] == 4


def test_save_leaves_only_the_index_folder(saved):
    siblings = sorted(p.name for p in saved.parent.iterdir())
    assert siblings == ["index"]  # no "index.tmp" or "index.old"
    assert sorted(p.name for p in saved.iterdir()) == sorted(FILES)


def test_save_over_existing_index(saved, small_passages, encoder):
    save_index(build_index(small_passages, encoder), saved)
    assert sorted(p.name for p in saved.parent.iterdir()) == ["index"]
    assert load_index(saved, small_passages, encoder.model_id).passage_vectors.ntotal == 4


def _problem(folder, passages, model_id):
    with pytest.raises(IndexProblem) as ei:
        load_index(folder, passages, model_id)
    assert HINT in str(ei.value)
    return str(ei.value)


def test_missing_folder(tmp_path, small_passages):
    msg = _problem(tmp_path / "nothing", small_passages, "fake-hash-v1")
    assert "manifest.json is missing" in msg


def test_corrupt_manifest(saved, small_passages):
    (saved / "manifest.json").write_text("{not json")
    assert "corrupt" in _problem(saved, small_passages, "fake-hash-v1")


def test_manifest_missing_a_field(saved, small_passages):
    data = json.loads((saved / "manifest.json").read_text())
    del data["dim"]
    (saved / "manifest.json").write_text(json.dumps(data))
    assert "corrupt" in _problem(saved, small_passages, "fake-hash-v1")


@pytest.mark.parametrize("name", ["passages.faiss", "sentences.faiss"])
def test_garbage_faiss_file(saved, small_passages, name):
    (saved / name).write_bytes(b"this is not a faiss index at all" * 4)
    assert "corrupt or unreadable" in _problem(saved, small_passages, "fake-hash-v1")


def test_missing_means(saved, small_passages):
    (saved / "means.npy").unlink()
    assert "corrupt or unreadable" in _problem(saved, small_passages, "fake-hash-v1")


def test_passages_changed(saved, small_passages):
    changed = list(small_passages)
    p = changed[0]
    changed[0] = Passage(p.passage_id, p.doc_id, p.title, p.section, p.text.replace("clinic", "hospital"), p.start, p.end, p.sentences)
    assert "documents have changed" in _problem(saved, changed, "fake-hash-v1")


def test_model_changed(saved, small_passages):
    msg = _problem(saved, small_passages, "other-model@1234")
    assert "fake-hash-v1" in msg and "other-model@1234" in msg


def test_format_version_changed(saved, small_passages):
    data = json.loads((saved / "manifest.json").read_text())
    data["format_version"] = 1
    (saved / "manifest.json").write_text(json.dumps(data))
    assert "another version" in _problem(saved, small_passages, "fake-hash-v1")


def test_vector_count_mismatch(saved, small_passages, encoder):
    # an index built from 3 passages, with its manifest claiming the 4-passage hash
    other = build_index(small_passages[:3], encoder)
    save_index(other, saved)
    data = json.loads((saved / "manifest.json").read_text())
    from kb.passages import passages_hash

    data["passages_hash"] = passages_hash(small_passages)
    (saved / "manifest.json").write_text(json.dumps(data))
    msg = _problem(saved, small_passages, "fake-hash-v1")
    assert "3 passage vectors for 4 passages" in msg


def test_ensure_index_fresh_does_not_rebuild(saved, small_passages, encoder):
    calls_before = encoder.calls
    idx, rebuilt = ensure_index(saved, small_passages, encoder)
    assert rebuilt is False
    assert encoder.calls == calls_before  # nothing was encoded
    assert idx.passage_vectors.ntotal == 4


def test_ensure_index_builds_when_missing(tmp_path, small_passages, encoder):
    folder = tmp_path / "idx"
    messages = []
    idx, rebuilt = ensure_index(folder, small_passages, encoder, messages.append)
    assert rebuilt is True
    assert (folder / "manifest.json").is_file()
    assert messages and messages[0].startswith("(re)building the index")
    # and the second call finds it fresh
    assert ensure_index(folder, small_passages, encoder)[1] is False


def test_ensure_index_rebuilds_when_stale(saved, small_passages, encoder):
    fewer = small_passages[:2]
    idx, rebuilt = ensure_index(saved, fewer, encoder)
    assert rebuilt is True
    assert idx.passage_vectors.ntotal == 2
    assert load_index(saved, fewer, encoder.model_id).passage_vectors.ntotal == 2
    assert not (saved.parent / "index.tmp").exists()


def test_ensure_index_rebuilds_when_corrupt(saved, small_passages, encoder):
    (saved / "passages.faiss").write_bytes(b"\x00garbage")
    _, rebuilt = ensure_index(saved, small_passages, encoder)
    assert rebuilt is True
    assert load_index(saved, small_passages, encoder.model_id).passage_vectors.ntotal == 4
