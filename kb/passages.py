"""Documents -> passages: paragraphs grouped within a section, never cut mid-sentence.

A passage is a verbatim slice `document.text[start:end]` with the section heading it sits under and
the spans of its sentences, so answers can quote sentences and point back at exact offsets.
Web-page debris (comment widgets, an empty "References :") and list intros whose list was lost are
dropped. Sizes are in words, a cheap stand-in for the model's 256-token limit (about 1.3 tokens a
word for this prose): `max_words` is a hard cap, `target_words` how far short paragraphs are merged.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from kb.documents import Document
from kb.sentences import sentence_spans

DEBRIS = re.compile(
    r"^(notify of|inline feedbacks|view all comments|leave a comment|leave a reply|references\s*:?|"
    r"your email address will not be published.*|share this.*|related posts?:?|\d+ comments?)$",
    re.IGNORECASE,
)
BULLET = re.compile(r"^\s*[•\-*·]\s+")
MAX_WORDS = 180
TARGET_WORDS = 100  # merge paragraphs of a section up to ~130 tokens (README: Retrieval, chunk size)


@dataclass(frozen=True)
class Passage:
    passage_id: str
    doc_id: str
    title: str
    section: str
    text: str
    start: int  # offsets into the document's text
    end: int
    sentences: tuple[tuple[int, int], ...]  # spans into `text`

    def sentence_texts(self) -> list[str]:
        return [self.text[s:e] for s, e in self.sentences]

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class _Para:
    start: int
    end: int
    text: str
    kind: str  # heading | debris | list | intro | text
    index: int = 0  # position among the document's paragraphs, to tell neighbours from gaps


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in re.finditer(r"\n[ \t]*\n", text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    out = []
    for s, e in spans:
        chunk = text[s:e]
        lead = len(chunk) - len(chunk.lstrip("\n"))
        tail = len(chunk.rstrip())
        if not chunk.strip():
            continue
        lines = chunk[lead:tail].split("\n")
        if len(lines) > 1 and any(DEBRIS.match(" ".join(ln.split())) for ln in lines):
            pos = s + lead  # a debris line inside a paragraph is a paragraph of its own
            for ln in lines:
                if ln.strip():
                    out.append((pos + len(ln) - len(ln.lstrip()), pos + len(ln.rstrip())))
                pos += len(ln) + 1
        else:
            out.append((s + lead, s + tail))
    return out


def _classify(text: str, is_last: bool) -> str:
    one = " ".join(text.split())
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if DEBRIS.match(one):
        return "debris"
    if all(BULLET.match(ln) for ln in lines):
        return "list"
    if one.endswith(":"):
        return "intro"
    looks_heading = len(lines) == 1 and len(one.split()) <= 14 and not re.search(r"[.;,:]$", one)
    return "heading" if looks_heading and not is_last else "text"


def _parse(doc: Document) -> list[_Para]:
    spans = _paragraphs(doc.text)
    paras = [_Para(s, e, doc.text[s:e], _classify(doc.text[s:e], i == len(spans) - 1), i) for i, (s, e) in enumerate(spans)]
    if paras and " ".join(paras[0].text.split()) == doc.title:
        paras[0] = _Para(paras[0].start, paras[0].end, paras[0].text, "heading", 0)
    # Everything after the first comment-widget line is page furniture, not article.
    for i, p in enumerate(paras):
        if p.kind == "debris" and not p.text.lower().startswith("references"):
            return [q for q in paras[:i] if q.kind != "debris"]
    return [p for p in paras if p.kind != "debris"]


def _blocks(paras: list[_Para]) -> list[tuple[str, list[_Para]]]:
    """(section, paragraphs) units: an intro with its list is one unit; a listless intro is dropped."""
    units, section, i = [], "", 0
    while i < len(paras):
        p = paras[i]
        if p.kind == "heading":
            section = " ".join(p.text.split())
        elif p.kind == "intro":
            if i + 1 < len(paras) and paras[i + 1].kind == "list":
                units.append((section, [p, paras[i + 1]]))
                i += 1
        else:
            units.append((section, [p]))
        i += 1
    return units


def _split_long(doc: Document, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut an over-long span at sentence (or list item) boundaries into pieces of at most
    `max_words` words; only a single sentence longer than that is left whole."""
    pieces, cur_s, cur_e, words = [], None, None, 0
    for s, e in ((start + a, start + b) for a, b in _sentences(doc.text[start:end])):
        n = len(doc.text[cur_e if cur_s is not None else s : e].split())  # bullets between items count too
        if cur_s is not None and words + n > max_words:
            pieces.append((cur_s, cur_e))
            cur_s, words = None, 0
        cur_s = s if cur_s is None else cur_s
        cur_e, words = e, words + n
    if cur_s is not None:
        pieces.append((cur_s, cur_e))
    return pieces


def _groups(units: list[tuple[str, list[_Para]]], target_words: int) -> list[tuple[str, int, int]]:
    """Merge neighbouring units of one section up to `target_words`; never across a dropped
    paragraph, since a passage is one verbatim slice and would bring it back."""
    groups: list[tuple[str, int, int]] = []
    words, last = 0, -2
    for section, ps in units:
        n = sum(len(p.text.split()) for p in ps)
        s, e = ps[0].start, ps[-1].end
        if groups and groups[-1][0] == section and ps[0].index == last + 1 and words + n <= target_words:
            groups[-1] = (section, groups[-1][1], e)
            words += n
        else:
            groups.append((section, s, e))
            words = n
        last = ps[-1].index
    return groups


def split_document(doc: Document, target_words: int = TARGET_WORDS, max_words: int = MAX_WORDS) -> list[Passage]:
    passages: list[Passage] = []
    for section, start, end in _groups(_blocks(_parse(doc)), target_words):
        for s, e in _split_long(doc, start, end, max_words):
            text = doc.text[s:e]
            n = len(passages)
            passages.append(
                Passage(
                    passage_id=f"{doc.doc_id}-{n:03d}",
                    doc_id=doc.doc_id,
                    title=doc.title,
                    section=section if section != doc.title else "",
                    text=text,
                    start=s,
                    end=e,
                    sentences=tuple(_sentences(text)),
                )
            )
    return passages


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, with each bullet line of a list counted as one sentence."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        if BULLET.match(line):
            lead = len(line) - len(BULLET.sub("", line))
            spans.append((pos + lead, pos + len(line.rstrip())))
        elif line.strip():
            spans.extend(sentence_spans(line, pos))
        pos += len(line) + 1
    return spans


def build_passages(docs: list[Document], target_words: int = TARGET_WORDS, max_words: int = MAX_WORDS) -> list[Passage]:
    return [p for d in docs for p in split_document(d, target_words, max_words)]


def passages_hash(passages: list[Passage]) -> str:
    """Content hash of the passage set: any change to text, ids or split changes it."""
    h = hashlib.sha256()
    for p in passages:
        h.update(f"{p.passage_id}\x1f{p.section}\x1f{p.title}\x1f{p.text}\x1e".encode("utf-8"))
    return h.hexdigest()
