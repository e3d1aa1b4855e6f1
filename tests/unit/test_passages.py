import re
from pathlib import Path

import pytest

from kb import DEFAULT_DOCS_DIR
from kb.documents import load_document, load_documents
from kb.passages import MAX_WORDS, build_passages, passages_hash, split_document

from .conftest import write_doc

DOC = """Guide To Ketamine

Ketamine is a medicine. It has been used for decades.

How It Is Given

There are two kinds of ketamine:

  • Racemic ketamine;
  • And esketamine.

Doctors give racemic ketamine by infusion. Esketamine is a nasal spray.

What It Helps

It may also help with:

Studies show fast relief in depression. Relief can come within hours.

Notify of

Inline Feedbacks
View all comments
Leave a Comment
"""

DEBRIS_LINES = ("Notify of", "Inline Feedbacks", "View all comments", "Leave a Comment", "References :")


@pytest.fixture
def doc(tmp_path):
    return load_document(write_doc(tmp_path, "guide.txt", DOC))


def test_headings_become_sections(doc):
    ps = split_document(doc, target_words=0)
    # The title paragraph is a heading, but a section equal to the title is blanked.
    assert [(p.section, p.text.split()[0]) for p in ps] == [
        ("", "Ketamine"),
        ("How It Is Given", "There"),
        ("How It Is Given", "Doctors"),
        ("What It Helps", "Studies"),
    ]
    assert all(p.title == "Guide To Ketamine" for p in ps)


def test_debris_never_in_a_passage(doc):
    for target in (0, 100, 1000):
        for p in split_document(doc, target_words=target):
            for line in DEBRIS_LINES:
                assert line not in p.text


def test_debris_each_in_own_paragraph_and_empty_references(tmp_path):
    text = "T\n\nFirst para here.\n\nReferences :\n\nInline Feedbacks\n\nView all comments\n\nLeave a Comment\n\nTrailing junk paragraph.\n"
    doc = load_document(write_doc(tmp_path, "d.txt", text))
    ps = split_document(doc, target_words=0)
    # "Inline Feedbacks" is the first non-references debris: everything from it on is page furniture
    assert [p.text for p in ps] == ["First para here."]


def test_multiline_debris_paragraph_dropped(tmp_path):
    doc = load_document(write_doc(tmp_path, "d.txt", "T\n\nFinal words here.\n\nInline Feedbacks\nView all comments\n"))
    texts = [p.text for p in split_document(doc)]
    assert all("Inline Feedbacks" not in t and "View all comments" not in t for t in texts)


def test_intro_with_bullets_stays_together(doc):
    ps = split_document(doc, target_words=0)
    listing = [p for p in ps if "There are two kinds" in p.text]
    assert len(listing) == 1
    p = listing[0]
    assert p.text == "There are two kinds of ketamine:\n\n  • Racemic ketamine;\n  • And esketamine."
    # each bullet line counts as a sentence, without its bullet marker
    assert p.sentence_texts() == ["There are two kinds of ketamine:", "Racemic ketamine;", "And esketamine."]


def test_listless_intro_is_dropped_when_paragraphs_are_not_merged(doc):
    texts = [p.text for p in split_document(doc, target_words=0)]
    assert all("It may also help with:" not in t for t in texts)


@pytest.mark.parametrize("dropped", ["Ketamine may also help alleviate symptoms of:", "References :"])
def test_dropped_paragraph_between_merged_paragraphs(tmp_path, dropped):
    text = f"T\n\nSection\n\nDoctors use ketamine for anxiety.\n\n{dropped}\n\nIt is unclear why it works.\n"
    doc = load_document(write_doc(tmp_path, "d.txt", text))
    ps = split_document(doc)
    # 5 + 6 words would fit one passage, but a passage is one verbatim slice: merging across the
    # dropped paragraph would bring it back, so the two paragraphs stay separate passages.
    assert [p.text for p in ps] == ["Doctors use ketamine for anxiety.", "It is unclear why it works."]
    assert all(dropped not in p.text for p in ps)


def test_passage_text_is_document_slice(doc):
    for target in (0, 100):
        for p in split_document(doc, target_words=target):
            assert p.text == doc.text[p.start : p.end]
            for s, e in p.sentences:
                assert 0 <= s < e <= len(p.text)


def test_default_merging_joins_paragraphs_within_a_section_only(doc):
    ps = split_document(doc)  # target 100 words: everything short merges, but never across a heading
    assert [p.section for p in ps] == ["", "How It Is Given", "What It Helps"]
    assert "Doctors give racemic ketamine" in ps[1].text and "There are two kinds" in ps[1].text
    # the listless intro opened its section, so the merged passage starts after it
    assert ps[2].text.startswith("Studies show") and "It may also help with:" not in ps[2].text


def test_target_zero_gives_one_passage_per_paragraph(tmp_path):
    text = "T\n\nSection\n\nPara one here.\n\nPara two here.\n\nPara three here.\n"
    doc = load_document(write_doc(tmp_path, "d.txt", text))
    assert [p.text for p in split_document(doc, target_words=0)] == ["Para one here.", "Para two here.", "Para three here."]
    # with the default target the three 3-word paragraphs (9 words <= 100) merge into one
    assert len(split_document(doc)) == 1


def test_no_passage_exceeds_max_words(tmp_path):
    # 40 sentences of 6 words = 240 words in one paragraph; max_words=50 -> cut at sentence ends
    sentence = "Ketamine helped this patient feel better."  # 6 words
    doc = load_document(write_doc(tmp_path, "long.txt", "T\n\n" + " ".join([sentence] * 40) + "\n"))
    ps = split_document(doc, max_words=50)
    assert all(p.words <= 50 for p in ps)
    # 8 sentences (48 words) fit under 50, a 9th would make 54 -> 40 / 8 = 5 passages
    assert [p.words for p in ps] == [48] * 5
    assert all(p.text.endswith("better.") and p.text.startswith("Ketamine") for p in ps)


def test_long_bullet_list_respects_max_words(tmp_path):
    bullets = "\n".join(f"  • item number {i} has several extra words in it;" for i in range(30))  # 30 x 10 words
    doc = load_document(write_doc(tmp_path, "l.txt", "T\n\nThe list:\n\n" + bullets + "\n\nEnd para here.\n"))
    assert all(p.words <= MAX_WORDS for p in split_document(doc))


def test_ids_stable_and_unique(tmp_path):
    folder = tmp_path / "docs"
    write_doc(folder, "a.txt", DOC)
    write_doc(folder, "b.txt", DOC.replace("Guide", "Other"))
    first = build_passages(load_documents(folder))
    second = build_passages(load_documents(folder))
    assert [p.passage_id for p in first] == [p.passage_id for p in second]
    ids = [p.passage_id for p in first]
    assert len(ids) == len(set(ids))
    assert ids[0] == "a-000" and ids[-1].startswith("b-")
    assert passages_hash(first) == passages_hash(second)


def test_hash_changes_when_one_word_changes(tmp_path):
    a = load_document(write_doc(tmp_path, "same.txt", DOC))
    h1 = passages_hash(split_document(a))
    b = load_document(write_doc(tmp_path, "same.txt", DOC.replace("within hours", "within days")))
    assert passages_hash(split_document(b)) != h1


# --- the bundled documents -------------------------------------------------------------------------

SOURCE = Path("/work/shared/kb-source")


@pytest.fixture(scope="module")
def real_passages():
    return build_passages(load_documents(DEFAULT_DOCS_DIR))


def test_bundled_documents_are_byte_identical_to_source():
    bundled = sorted(p.name for p in DEFAULT_DOCS_DIR.glob("*.txt"))
    source = sorted(p.name for p in SOURCE.glob("*.txt"))
    assert bundled == source and len(bundled) == 2
    for name in bundled:
        assert (DEFAULT_DOCS_DIR / name).read_bytes() == (SOURCE / name).read_bytes()


def test_real_passages_have_no_debris(real_passages):
    assert real_passages  # something was built
    for p in real_passages:
        assert "Notify of" not in p.text
        assert "Leave a Comment" not in p.text
        assert "View all comments" not in p.text
        assert not re.search(r"^References\s*:", p.text, re.M)


def test_real_passages_sentences_non_empty_and_stub_free(real_passages):
    for p in real_passages:
        assert p.sentences
        for s in p.sentence_texts():
            assert s.strip()
            assert "(Source)" not in s


def test_real_passages_end_at_sentence_end(real_passages):
    for p in real_passages:
        assert p.text.strip()[-1] in ".!?:;”\")", p.passage_id
        assert p.words <= MAX_WORDS


def test_real_passages_are_slices(real_passages):
    docs = {d.doc_id: d for d in load_documents(DEFAULT_DOCS_DIR)}
    for p in real_passages:
        assert docs[p.doc_id].text[p.start : p.end] == p.text
