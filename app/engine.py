"""The engine: `Engine.answer(message, history) -> Reply`, the one call every surface uses.

Flow: check the input -> policy (crisis, dosing, scope) -> build the search query (follow-ups,
spelling, lay words) -> hybrid retrieval -> answer composition or honest abstention -> output guard.
Abstention combines the coverage model (`app/data/coverage_model.json`, `python -m eval
train-coverage`) with thresholds from `app/data/calibration.json` (`python -m eval calibrate`), both
fitted on the tune splits of the labelled sets, not guessed. The engine holds no per-conversation state: history comes with the call.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from app.classifier import SafetyModel, load_coverage, load_model
from app.compose import HAND_SET, Ranker, around_said, by_best_unit, load_ranker, quoted_units, score_units, select
from app.coverage import coverage_gaps, retrieval_signals
from app.guard import mask_dose_numbers
from app.policy import classify
from app.query import Speller, expand, fold, is_followup, spell_out, translate_terms
from app.records import BadInput, Citation, Reply
from app.settings import Settings
from app.templates import Templates, load_templates
from index.lexical import STOPWORDS, tokenize, words
from index.retrieve import fuse, search
from index.store import KnowledgeIndex

CALIBRATION = Path(__file__).parent / "data" / "calibration.json"
MAX_HISTORY_TURNS = 12


def load_calibration(path: Path = CALIBRATION) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def clean_message(raw: object, limit: int, t: Templates) -> str:
    if not isinstance(raw, str):
        raise BadInput(t.input_unreadable)
    text = "".join(ch for ch in raw if unicodedata.category(ch) != "Cc" or ch in "\n\r\t")
    controls = len(raw) - len(text)
    if controls and (not text.strip() or controls > 0.1 * len(raw)):
        raise BadInput(t.input_unreadable)
    text = text.strip()
    if not text:
        raise BadInput(t.input_empty)
    if len(text) > limit:
        raise BadInput(t.input_too_long.format(length=len(text), limit=limit))
    return text


def clean_history(history: object, limit: int) -> list[dict]:
    """Accept [{"role", "content"}] (also Gradio's message dicts) or [(user, bot)] pairs; keep text turns."""
    turns: list[dict] = []
    for item in list(history or [])[-MAX_HISTORY_TURNS * 2 :]:
        if isinstance(item, dict):
            role, content = item.get("role"), item.get("content")
            if isinstance(content, list):  # Gradio 6 content parts
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            if role in ("user", "assistant") and isinstance(content, str) and content.strip():
                turns.append({"role": role, "content": content[:limit]})
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            for role, content in zip(("user", "assistant"), item):
                if isinstance(content, str) and content.strip():
                    turns.append({"role": role, "content": content[:limit]})
    return turns[-MAX_HISTORY_TURNS:]


def coverage_vector(vecs: np.ndarray) -> np.ndarray:
    """What the coverage model reads of a question: its embedding, and for a follow-up (searched
    alone and with its context) the normalised mean of the two. The context embedding alone reads
    the earlier, covered question as much as the new one ("does insurance pay for that?" after "how
    is it given?"). Leave-one-set-out on the tune splits of the twenty-four sets, follow-ups' uncovered
    questions caught went from 0.609 to 0.654 at 0.045 -> 0.035 wrongly flagged, single questions
    unchanged (README: Abstention)."""
    if len(vecs) < 2:
        return vecs[-1]
    mean = vecs[0] + vecs[-1]
    return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)


def forget_messages() -> None:
    """Empty the caches keyed by whole messages (folding, term translation, masking), so a benchmark
    that repeats a question measures it as new. Word- and corpus-level caches stay: a running
    server has them warm anyway."""
    for cached in (fold, translate_terms, mask_dose_numbers):
        cached.cache_clear()


class Engine:
    def __init__(self, settings: Settings, index: KnowledgeIndex, encoder, calibration: dict | None = None,
                 safety_model: SafetyModel | None | bool = True, coverage_model: SafetyModel | None | bool = True,
                 ranker: Ranker | None | bool = True):
        self.settings = settings
        self.index = index
        self.encoder = encoder
        self.templates = load_templates(settings.crisis)
        self.calibration = calibration if calibration is not None else load_calibration()
        vocab = Counter(w for p in index.passages for w in words(fold(p.text)))
        self.topic_words = frozenset(w for w in vocab if w not in STOPWORDS)
        self.speller = Speller(dict(vocab))
        self.corpus_stems = frozenset(t for p in index.passages for t in tokenize(p.text))
        self.safety = load_model(model_id=encoder.model_id) if safety_model is True else (safety_model or None)
        self.coverage = (load_coverage(model_id=encoder.model_id, passages_hash=index.manifest.passages_hash)
                         if coverage_model is True else (coverage_model or None))
        # the learned sentence ranker, or the hand-set score when there is none
        self.ranker = (load_ranker(model_id=encoder.model_id, dim=index.passage_vectors.d) if ranker is True else ranker) or HAND_SET
        import faiss

        faiss.omp_set_num_threads(1)  # one query at a time: threads cost more than they save (0.27 vs 5.5 ms at 10k)

    @classmethod
    def load(cls, settings: Settings, **kwargs) -> "Engine":
        """Load documents, model and index; raise DocumentError, ModelError or IndexProblem with a fix."""
        from index.embedder import SentenceEncoder
        from index.store import load_index
        from kb import build_passages, load_documents

        passages = build_passages(load_documents(settings.docs_dir))
        encoder = SentenceEncoder(settings.model_path)
        index = load_index(settings.index_dir, passages, encoder.model_id)
        return cls(settings, index, encoder, **kwargs)

    def _queries(self, message: str, history: list[dict], followup: bool) -> list[str]:
        """The message, and for a follow-up also the message with the previous user turn: both are
        searched and fused, so context helps "and for OCD?" without drowning a new topic."""
        prev = [t["content"] for t in history if t["role"] == "user"]
        if followup and prev and self.settings.retrieval.use_history:
            return [message, f"{prev[-1]} {message}"]
        return [message]

    def dense_text(self, query: str) -> str:
        """What the embedding model reads: the words spelling-corrected, plus English for known
        foreign key terms (the model is English-only)."""
        corrected = " ".join(self.speller.correct(w) for w in spell_out(words(fold(query))))
        return f"{corrected} {translate_terms(query)}".strip()

    def prepare(self, message: object, history: object = ()) -> tuple[str, list[dict], list[str], list[str]]:
        """The cleaned message and history, the queries to search, and the texts the model will encode."""
        text = clean_message(message, self.settings.max_input_chars, self.templates)
        turns = clean_history(history, self.settings.max_input_chars)
        queries = self._queries(text, turns, bool(turns) and is_followup(text, self.topic_words))
        return text, turns, queries, [self.dense_text(q) for q in queries]

    def said_before(self, turns: list[dict], queries: list[str]) -> frozenset[int]:
        """For a follow-up (searched with its context), the units the previous reply quoted: the
        ranker reads them, so "was there a follow-up?" can look beside the study just quoted, and
        an answer need not repeat what was just said. A new question ignores them."""
        if len(queries) < 2 or not self.settings.retrieval.read_previous_reply:
            return frozenset()
        reply = next((t["content"] for t in reversed(turns) if t["role"] == "assistant"), "")
        return quoted_units(self.index, reply)

    def retrieve(self, queries: list[str], dense: list[str], vecs, said: frozenset[int] = frozenset()) -> tuple[list, list[set[str]]]:
        """The passages for the queries (a follow-up's two searches fused), and the stem sets the
        sentence scores compare against. A follow-up that quoted something searches deeper, so
        the passages around what was said can join the ones the ranker reads (`rerank_pool`)."""
        r = self.settings.retrieval
        k = max(r.top_k, r.candidate_passages, r.rerank_passages) + (r.rerank_passages if said else 0)
        runs = [self._search(q, d, v, k) for q, d, v in zip(queries, dense, vecs)]
        hits = runs[0][0] if len(runs) == 1 else fuse([h for h, _ in runs], k=k)
        return hits, [s for _, sets in runs for s in sets]

    def rerank_pool(self, hits: list, said: frozenset[int] = frozenset()) -> list:
        """The hits the ranker reads: the first `rerank_passages`, and for a follow-up also the
        passages the previous reply quoted and those beside them, wherever they were ranked. With
        `rerank_passages` no more than `candidate_passages` (no reordering), the candidates alone."""
        r = self.settings.retrieval
        if r.rerank_passages <= r.candidate_passages:
            return list(hits[: r.candidate_passages])
        n = r.rerank_passages
        if not said:
            return list(hits[:n])
        near = set().union(*around_said(self.index, said))
        return list(hits[:n]) + [h for h in hits[n:] if self.index.position[h.passage.passage_id] in near]

    def units(self, hits, vecs, stems, said: frozenset[int] = frozenset()) -> tuple[list, list]:
        """The hits, reordered by their best sentence when a learned ranker reads them, and the
        quotable units of the best passages, best first (none carries a dose number).

        The ranker scores the sentences of the first `rerank_passages` fused hits (and, for a
        follow-up, of the passages around what was said), and each passage moves to where its best
        sentence stands: leave-one-set-out on the sixteen sets' tune splits, recall@3 0.918 ->
        0.951 and MRR 0.817 -> 0.879 (README: Measured figures)."""
        r = self.settings.retrieval
        reorder = self.ranker is not HAND_SET and r.rerank_passages > r.candidate_passages
        if not reorder:
            return hits, score_units(self.index, hits, list(vecs), stems, r.candidate_passages, self.ranker, said)
        pool = self.rerank_pool(hits, said)
        units = score_units(self.index, pool, list(vecs), stems, len(pool), self.ranker, said)
        inside = {h.passage.passage_id for h in pool}
        hits = by_best_unit(self.index, pool, units) + [h for h in hits if h.passage.passage_id not in inside]
        best = {self.index.position[h.passage.passage_id] for h in hits[: r.candidate_passages]}
        return hits, [u for u in units if u.passage_index in best]

    def _search(self, query: str, dense_text: str, qvec, k: int):
        """(hits, the query's stem sets: as the model read it, and as BM25 read it)."""
        lexical_text = expand(query, self.speller)
        hits = search(self.index, lexical_text, qvec, self.settings.retrieval.mode, k=k)
        return hits, [set(tokenize(dense_text)), set(tokenize(lexical_text))]

    def answer(self, message: object, history: object = ()) -> Reply:
        t0 = time.perf_counter()
        timings: list[tuple[str, float]] = []

        def lap(stage: str, since: float) -> float:
            now = time.perf_counter()
            timings.append((stage, (now - since) * 1000))
            return now

        r = self.settings.retrieval
        text, turns, queries, dense = self.prepare(message, history)
        vecs = self.encoder.encode(dense)  # one batch, shared by the classifier and retrieval
        t = lap("encode", t0)
        flags = [self.safety.flags(v, d) for v, d in zip(vecs, dense)] if self.safety else [{} for _ in vecs]
        decision = classify(text, turns, self.topic_words, flags[0], flags[-1] if len(flags) > 1 else None)
        t = lap("classify", t)
        if decision.kind in ("crisis", "refuse_dosing", "out_of_scope"):
            body = getattr(self.templates, decision.kind)
            return self._finish(Reply(decision.kind, body, reason=decision.reason), t0, timings)

        said = self.said_before(turns, queries)
        hits, stems = self.retrieve(queries, dense, vecs, said)
        query = queries[-1]
        t = lap("retrieve", t)
        best_dense = max((h.dense for h in hits[: max(r.top_k, r.candidate_passages)]), default=0.0)  # as calibrated
        signals = {"topic_similarity": best_dense, "has_topic": decision.has_topic}
        if not decision.has_topic and best_dense < self.calibration["topic_threshold"]:
            reply = Reply("out_of_scope", self.templates.out_of_scope, hits=tuple(hits[: r.top_k]), query=query,
                          reason=f"no on-topic words and nothing in the sources is close (best similarity {best_dense:.2f})", **signals)
            return self._finish(reply, t0, timings)
        hits, units = self.units(hits, vecs, stems, said)
        best = units[0] if units else None
        scores = sorted((u.score for u in units), reverse=True) or [0.0]  # similarity plus overlap of the question's informative words
        sim = scores[0]
        margin = sim - scores[1] if len(scores) > 1 else sim  # how far the best sentence leads the next
        gaps = tuple(coverage_gaps(text, self.speller, self.corpus_stems))
        signals.update(confidence=sim, gaps=gaps)
        cal = self.calibration
        gap_open = bool(gaps) and sim < cal["gap_answer_threshold"]
        read = retrieval_signals(sim, margin, best_dense, hits[0].score if hits else 0.0, len(gaps), decision.has_topic, bool(turns))
        uncovered = self.coverage.flags(coverage_vector(vecs), dense[-1], read).get("not_in_sources") if self.coverage else None
        if best is None or sim < cal["answer_threshold"] or gap_open or uncovered:
            related = tuple(h for h in hits[:2] if h.dense >= cal["related_floor"])
            why = (f"the sources never mention {', '.join(repr(g) for g in gaps[:3])}" if gap_open
                   else f"reads as a question the sources leave open (coverage model {uncovered:.2f})" if uncovered
                   else "no sentence answers closely enough")
            reply = Reply("not_in_sources", self.templates.not_in_sources, hits=tuple(hits[: r.top_k]), related=related,
                          query=query, reason=f"{why} (best score {sim:.2f})", **signals)
            return self._finish(reply, t0, timings)
        chosen = select(self.index, units, r.max_sentences, r.max_answer_words, self.ranker.margin)
        t = lap("compose", t)
        reply = replace(self._cite(chosen, tuple(hits[: r.top_k]), query, sim), **signals)
        return self._finish(reply, t0, timings)

    def _cite(self, chosen, hits, query: str, similarity: float) -> Reply:
        numbers: dict[int, int] = {}
        quotes: dict[int, list[str]] = {}
        parts = []
        previous = None
        for u in chosen:
            n = numbers.setdefault(u.passage_index, len(numbers) + 1)
            quotes.setdefault(u.passage_index, []).append(u.text)
            if previous is not None:  # quotes from one passage run on; another passage starts a paragraph
                parts.append(" " if u.passage_index == previous else "\n\n")
            parts.append(f"{' '.join(u.text.split())} [{n}]")
            previous = u.passage_index
        citations = tuple(Citation(n, self.index.passages[pi], tuple(quotes[pi])) for pi, n in numbers.items())
        return Reply("answer", "".join(parts), citations=citations, hits=hits, query=query,
                     reason=f"quoted {len(chosen)} sentence(s); best score {similarity:.2f}")

    def _finish(self, reply: Reply, t0: float, timings: list[tuple[str, float]]) -> Reply:
        """Output guard, notice and timings: the last step of every reply."""
        cites = tuple(replace(c, passage=replace(c.passage, text=mask_dose_numbers(c.passage.text))) for c in reply.citations)
        timings.append(("total", (time.perf_counter() - t0) * 1000))
        return replace(reply, text=mask_dose_numbers(reply.text), citations=cites, notice=self.templates.notice, timings_ms=tuple(timings))
