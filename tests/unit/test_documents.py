import pytest

from kb.documents import DocumentError, load_document, load_documents

from .conftest import write_doc


def test_front_matter_is_parsed_and_removed(tmp_path):
    path = write_doc(tmp_path, "raw-name.txt", "---\ntitle: My Title\nurl: https://example.org/a\nid: doc-1\n---\nBody line.\n")
    doc = load_document(path)
    assert doc.doc_id == "doc-1"  # id from front matter, not the file stem "raw-name"
    assert doc.title == "My Title"
    assert doc.url == "https://example.org/a"  # only the first ':' separates key and value
    assert doc.text == "Body line.\n"  # front matter and its closing '---' line removed
    assert "title:" not in doc.text


def test_without_front_matter_title_is_first_line_and_id_is_stem(tmp_path):
    path = write_doc(tmp_path, "notes_01.txt", "\n\n  First Line  \n\nBody.\n")
    doc = load_document(path)
    assert doc.doc_id == "notes_01"
    assert doc.title == "First Line"  # first non-empty line, stripped
    assert doc.url == ""
    assert doc.text == "\n\n  First Line  \n\nBody.\n"  # kept verbatim


def test_crlf_is_normalised(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes(b"Title\r\n\r\nBody.\r\n")
    assert load_document(path).text == "Title\n\nBody.\n"


def _assert_error_names(exc_info, needle):
    assert needle in str(exc_info.value)


def test_unclosed_front_matter(tmp_path):
    path = write_doc(tmp_path, "open.txt", "---\ntitle: X\nBody without a closing line.\n")
    with pytest.raises(DocumentError) as ei:
        load_document(path)
    _assert_error_names(ei, "open.txt")
    assert "never closed" in str(ei.value)


def test_unknown_front_matter_key_names_line(tmp_path):
    path = write_doc(tmp_path, "k.txt", "---\ntitle: X\nauthor: Y\n---\nBody.\n")
    with pytest.raises(DocumentError) as ei:
        load_document(path)
    # "author:" is on line 3 of the file (line 1 is '---')
    assert "k.txt, line 3" in str(ei.value)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 au lait.\n".encode("latin-1"))  # 0xE9 alone is invalid UTF-8
    with pytest.raises(DocumentError) as ei:
        load_document(path)
    _assert_error_names(ei, "latin1.txt")
    assert "UTF-8" in str(ei.value)
    assert "byte 3" in str(ei.value)  # "Caf" is bytes 0-2, the bad byte is at 3


def test_nul_bytes(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"Title\n\x00\x00Body\n")
    with pytest.raises(DocumentError) as ei:
        load_document(path)
    _assert_error_names(ei, "bin.txt")
    assert "NUL" in str(ei.value)


@pytest.mark.parametrize("content", ["", "  \n\n\t\n", "---\ntitle: Only Meta\n---\n\n"])
def test_empty_file(tmp_path, content):
    path = write_doc(tmp_path, "empty.txt", content)
    with pytest.raises(DocumentError) as ei:
        load_document(path)
    _assert_error_names(ei, "empty.txt")
    assert "empty" in str(ei.value)


def test_bad_id_characters(tmp_path):
    path = write_doc(tmp_path, "x.txt", "---\nid: has space\n---\nBody.\n")
    with pytest.raises(DocumentError) as ei:
        load_document(path)
    assert "x.txt" in str(ei.value) and "'has space'" in str(ei.value)


def test_duplicate_id(tmp_path):
    write_doc(tmp_path, "a.txt", "---\nid: same\n---\nFirst.\n")
    write_doc(tmp_path, "b.md", "---\nid: same\n---\nSecond.\n")
    with pytest.raises(DocumentError) as ei:
        load_documents(tmp_path)
    msg = str(ei.value)
    assert "'same'" in msg and "a.txt" in msg and "b.md" in msg


def test_missing_folder(tmp_path):
    folder = tmp_path / "nope"
    with pytest.raises(DocumentError) as ei:
        load_documents(folder)
    assert str(folder) in str(ei.value)
    assert "does not exist" in str(ei.value)


def test_empty_folder(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_doc(folder, "README.md", "# readme is ignored\n")
    write_doc(folder, "data.csv", "a,b\n")  # wrong suffix, ignored
    with pytest.raises(DocumentError) as ei:
        load_documents(folder)
    assert str(folder) in str(ei.value)
    assert "no .txt or .md" in str(ei.value)


def test_load_documents_sorted_and_filtered(tmp_path):
    write_doc(tmp_path, "b.txt", "Bee\n\nText b.\n")
    write_doc(tmp_path, "a.MD", "Ay\n\nText a.\n")  # suffix match is case-insensitive
    write_doc(tmp_path, "readme.md", "ignored\n")
    write_doc(tmp_path, "c.rst", "ignored\n")
    docs = load_documents(tmp_path)
    assert [d.doc_id for d in docs] == ["a", "b"]  # sorted by file name; readme and .rst skipped


def test_sha256_changes_with_text(tmp_path):
    a = load_document(write_doc(tmp_path, "a.txt", "T\n\nOne word.\n"))
    b = load_document(write_doc(tmp_path, "b.txt", "T\n\nOne ward.\n"))
    assert len(a.sha256) == 64 and a.sha256 != b.sha256


def test_empty_front_matter_block_is_closed(tmp_path):
    path = write_doc(tmp_path, "e.txt", "---\n---\nTitle\n\nBody.\n")
    doc = load_document(path)
    assert doc.text == "Title\n\nBody.\n"
