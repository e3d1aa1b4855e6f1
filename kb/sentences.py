"""Splitting text into sentences as character spans, so every sentence is a verbatim slice.

Rule-based on purpose: the corpus is small web prose with known quirks ("treated.A combination",
"cases. .Unfortunately", "PTSD.(Source)", quotes closing after the full stop), and a rule we can read
beats a model we cannot. It never cuts inside a sentence it cannot classify: when unsure, it keeps
text together. It does not know about paragraphs or headings (that is `kb.passages`).
"""

from __future__ import annotations

import re

# Words that end with a full stop without ending a sentence.
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "prof", "e.g", "i.e", "al", "vs", "etc", "st", "no", "fig", "approx"}
_TERMINAL = re.compile(r"[.!?]+[\"”’')\]]*")
# Citation stubs left over from the web page ("...PTSD.(Source)"): kept out of every sentence.
_STUB = re.compile(r"\s*\(Source\)")
_OPENERS = "\"“‘('["
_TRIM_LEAD = " \t\n.,;:"
_TRIM_TAIL = " \t\n"


def _is_boundary(text: str, start: int, end: int) -> bool:
    """Does the terminal punctuation text[start:end] end a sentence?"""
    if end >= len(text):
        return True
    nxt = text[end]
    if _STUB.match(text, end):
        return True
    word = re.search(r"([A-Za-z.]+)$", text[max(0, start - 12) : start])
    if text[start] == "." and word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
        return False
    if nxt.isspace():
        rest = text[end:].lstrip()
        return not rest or rest[0].isupper() or rest[0].isdigit() or rest[0] in _OPENERS or rest[0] == "."
    # "treated.A combination": a missing space before a capitalised word (but not "U.S." or "2.5").
    return nxt.isupper() and end - start == 1 and start > 0 and text[start - 1].islower()


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, shifted by `offset`, trimmed of stray punctuation."""
    spans: list[tuple[int, int]] = []
    begin = 0
    for m in _TERMINAL.finditer(text):
        if _is_boundary(text, m.start(), m.end()):
            spans.append((begin, m.end()))
            begin = m.end()
    spans.append((begin, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s] in _TRIM_LEAD:
            s += 1
        while e > s and text[e - 1] in _TRIM_TAIL:
            e -= 1
        stub = _STUB.match(text, s)
        while stub:  # a stub opening a span belongs to no sentence
            s = stub.end()
            while s < e and text[s] in _TRIM_LEAD:
                s += 1
            stub = _STUB.match(text, s)
        if e > s and any(ch.isalnum() for ch in text[s:e]):
            out.append((s + offset, e + offset))
    return out


def split_sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]
