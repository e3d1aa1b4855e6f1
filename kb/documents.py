"""Loading the documents folder: one `.txt` or `.md` file per document, wording untouched.

A document may start with front matter between two `---` lines (`title:`, `url:`, `id:`); without
it, the first non-empty line is the title and the file name (without extension) is the id. The body
text is kept byte for byte, because answers quote it verbatim and passages carry offsets into it.
This module does not split or clean text: that is `kb.passages`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DOCS_DIR = Path(__file__).parent / "documents"
SUFFIXES = (".txt", ".md")
_ID_OK = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
_FRONT_KEYS = {"title", "url", "id"}


class DocumentError(ValueError):
    """A document file cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str  # body after any front matter, exactly as in the file
    path: str
    url: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def _parse_front_matter(raw: str, path: Path) -> tuple[dict[str, str], str]:
    if not raw.startswith("---\n"):
        return {}, raw
    end = raw.find("\n---\n", 3)
    if end < 0:
        raise DocumentError(f"{path}: front matter opened with '---' but never closed; add a '---' line after it")
    meta: dict[str, str] = {}
    for n, line in enumerate(raw[4:end].splitlines() if end > 3 else [], start=2):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if not sep or key not in _FRONT_KEYS:
            raise DocumentError(f"{path}, line {n}: expected 'title: ...', 'url: ...' or 'id: ...', got {line!r}")
        meta[key] = value.strip()
    return meta, raw[end + 5 :]


def load_document(path: Path) -> Document:
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    if "\x00" in raw:
        raise DocumentError(f"{path}: contains NUL bytes, which looks like a binary file; only .txt/.md text is supported")
    raw = raw.replace("\r\n", "\n")
    meta, body = _parse_front_matter(raw, path)
    if not body.strip():
        raise DocumentError(f"{path}: the document is empty")
    doc_id = meta.get("id") or path.stem
    if not _ID_OK.match(doc_id):
        raise DocumentError(f"{path}: document id {doc_id!r} may only use letters, digits, '.', '_' and '-'")
    title = meta.get("title") or next(line.strip() for line in body.splitlines() if line.strip())
    return Document(doc_id=doc_id, title=title, text=body, path=str(path), url=meta.get("url", ""))


def load_documents(folder: Path | str = DEFAULT_DOCS_DIR) -> list[Document]:
    """All documents of `folder`, sorted by file name; ids must be unique."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DocumentError(f"documents folder {folder} does not exist; create it and put .txt or .md files in it")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    paths = [p for p in paths if p.name.lower() != "readme.md"]
    if not paths:
        raise DocumentError(f"documents folder {folder} holds no .txt or .md files")
    docs = [load_document(p) for p in paths]
    seen: dict[str, str] = {}
    for d in docs:
        if d.doc_id in seen:
            raise DocumentError(f"document id {d.doc_id!r} is used by both {seen[d.doc_id]} and {d.path}; give one an 'id:' in its front matter")
        seen[d.doc_id] = d.path
    return docs
