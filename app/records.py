"""The records the engine returns: `Reply` and its `Citation`s, plus the input error it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from index.search import Hit
from kb.passages import Passage

Kind = Literal["answer", "not_in_sources", "refuse_dosing", "crisis", "out_of_scope"]
KINDS: tuple[str, ...] = ("answer", "not_in_sources", "refuse_dosing", "crisis", "out_of_scope")


class BadInput(ValueError):
    """The message cannot be answered as given; `str(exc)` is a friendly sentence for the user."""


@dataclass(frozen=True)
class Citation:
    number: int  # the [n] marker in the reply text
    passage: Passage
    quotes: tuple[str, ...]  # the sentences quoted from this passage, verbatim

    def to_dict(self) -> dict:
        p = self.passage
        return {"number": self.number, "doc_id": p.doc_id, "title": p.title, "section": p.section,
                "passage_id": p.passage_id, "text": p.text, "quotes": list(self.quotes)}


@dataclass(frozen=True)
class Reply:
    kind: Kind
    text: str  # the reply body shown to the user (markers [n] refer to `citations`)
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()  # what retrieval returned, best first
    related: tuple[Hit, ...] = ()  # for not_in_sources: nearby passages, shown as related, never as an answer
    query: str = ""  # what was actually searched for
    reason: str = ""  # why this kind was chosen (for reviewers)
    notice: str = ""
    confidence: float | None = None  # best sentence similarity, when retrieval ran (for calibration)
    topic_similarity: float | None = None  # best dense similarity of any passage
    has_topic: bool | None = None  # on-topic words in the message (or the conversation it follows)
    gaps: tuple[str, ...] = ()  # specific words of the question the sources never use
    timings_ms: tuple[tuple[str, float], ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "answer": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [{"passage_id": h.passage.passage_id, "doc_id": h.passage.doc_id, "title": h.passage.title,
                           "score": round(h.score, 6), "dense": round(h.dense, 6), "text": h.passage.text} for h in self.hits],
            "related": [{"passage_id": h.passage.passage_id, "title": h.passage.title, "text": h.passage.text} for h in self.related],
            "searched_for": self.query,
            "reason": self.reason,
            "signals": {"confidence": None if self.confidence is None else round(self.confidence, 4),
                        "topic_similarity": None if self.topic_similarity is None else round(self.topic_similarity, 4),
                        "has_topic": self.has_topic, "gaps": list(self.gaps)},
            "notice": self.notice,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms},
        }
