"""Turning a user's message (and the conversation) into the text that is searched.

Three steps, each measurable on its own: (1) a follow-up that cannot stand alone ("and for OCD?",
"how long does that last?") borrows the previous user turn; a self-contained question does not, so
old topics do not pollute it; (2) misspelt words are corrected against the corpus vocabulary
(SymSpell-style deletion lookup, edit distance <= 2); (3) lay phrases add the words the sources use
(`app/data/synonyms.toml`). The answer never contains any of this: only retrieval sees it.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path

from index.lexical import STOPWORDS, words

DATA = Path(__file__).parent / "data"
# Openings that continue a conversation in Spanish, French, German and Portuguese ("y cuanto...",
# "et du coup...", "und wie viel...").
_FOREIGN_OPENINGS = r"y|e|et|und|pero|mais|aber|mas|vale|bueno|entonces|alors|donc|du coup|dann|e entao|y si|et si|und wenn|e se"
_FOLLOWUP_START = re.compile(
    r"^(and|so|ok(ay)?|but|also|then|what about|how about|what if|is (it|that|this)|does (it|that|this)|"
    r"do (they|those)|can (it|that)|will (it|that)|are (they|those)|how (long|fast|soon|often|much)|why|really|same|any|"
    rf"{_FOREIGN_OPENINGS})\b"
)
_FOREIGN_START = re.compile(rf"^(ok(ay)?\W+)?({_FOREIGN_OPENINGS})\b")  # also after an "ok"
# An elliptical phrase that only makes sense against the previous question ("vs depression?", "for
# depression tho?", "para el toc?"): short, it follows on even when it names a topic of its own.
_ELLIPSIS_START = re.compile(r"^(ok(ay)?\W+)?(vs\.?|versus|for|with|without|compared\s+(to|with)|than|para|pour|fur|mit|com|con|avec|contra|contre|gegen)\b")
_ANAPHORA = re.compile(r"\b(it|its|that|this|those|these|they|them|there|then|one|same|ones|he|she|him|her|his)\b"
                       r"|\b(after|afterwards|before|too|either|instead|as well)\W*$")  # "can i drive home after?"


@lru_cache(maxsize=4096)  # one message is folded by the policy, retrieval and the coverage check alike
def fold(text: str) -> str:
    """Lower case, accents removed, typographic quotes and dashes folded, spaces collapsed."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    t = t.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"}))
    return re.sub(r"\s+", " ", t.lower()).strip()


def is_followup(message: str, topic_words: frozenset[str]) -> bool:
    """A message that leans on earlier turns: starts like a continuation, or is short and anaphoric
    with no topic word of its own."""
    m = fold(message)
    content = [w for w in words(m) if w not in STOPWORDS]
    if _FOLLOWUP_START.match(m):
        # English stop words do not thin out other languages, so those may run a little longer
        if len(content) <= (9 if _FOREIGN_START.match(m) else 6):
            return True
    if _ELLIPSIS_START.match(m) and len(content) <= 3:
        return True
    has_topic = any(w in topic_words for w in content)
    return len(content) <= 4 and (bool(_ANAPHORA.search(m)) or not has_topic)


@lru_cache(maxsize=1)
def load_synonyms() -> tuple[tuple[re.Pattern, str], ...]:
    data = tomllib.loads((DATA / "synonyms.toml").read_text(encoding="utf-8"))
    return tuple((re.compile(k), v) for k, v in data["expand"].items())


@lru_cache(maxsize=1)
def _glossary() -> dict[str, tuple[tuple[re.Pattern, str], ...]]:
    """Every table of glossary.toml, compiled; the file is read once."""
    data = tomllib.loads((DATA / "glossary.toml").read_text(encoding="utf-8"))
    return {table: tuple((re.compile(k), v) for k, v in keys.items()) for table, keys in data.items()}


def load_glossary(table: str = "terms") -> tuple[tuple[re.Pattern, str], ...]:
    """`terms`: foreign words for what the sources say (they count as covered); `uncovered`:
    foreign words for what the sources never discuss (they stay coverage gaps)."""
    return _glossary()[table]


@lru_cache(maxsize=1024)
def translate_terms(text: str) -> str:
    """English words for the known key terms of a non-English question, covered by the sources
    or not ("" if none)."""
    folded = fold(text)
    return " ".join(v for table in ("terms", "uncovered") for pat, v in load_glossary(table) if pat.search(folded))


@lru_cache(maxsize=50_000)
def is_english(word: str) -> bool:
    """A real English word (seen in wordfreq's lists) is never "corrected" into a corpus word:
    "insurance" must not become "instance"."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") >= 2.0


def _deletes(word: str, depth: int) -> set[str]:
    out, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    """Corrects words that are not in the vocabulary to the closest frequent vocabulary word."""

    def __init__(self, vocabulary: dict[str, int], max_distance: int = 2):
        self.vocab = vocabulary
        self.max_distance = max_distance
        self._lookup: dict[str, list[str]] = {}
        self._cache: dict[str, str] = {}
        for w in vocabulary:
            if len(w) >= 4:
                for d in _deletes(w, max_distance):
                    self._lookup.setdefault(d, []).append(w)

    def correct(self, word: str) -> str:
        """The correction of one word; remembered, since every message is corrected two or three
        times (for the model, for BM25, for the coverage check) and users repeat words."""
        hit = self._cache.get(word)
        if hit is None:
            if len(self._cache) >= 50_000:
                self._cache.clear()
            hit = self._cache[word] = self._correct(word)
        return hit

    def _correct(self, word: str) -> str:
        if word in self.vocab or len(word) < 4 or word.isdigit() or word in STOPWORDS or is_english(word):
            return word
        allowed = 1 if len(word) <= 5 else self.max_distance
        best, best_key = word, None
        for d in _deletes(word, allowed):
            for cand in self._lookup.get(d, ()):
                dist = edit_distance(word, cand)
                if dist <= allowed:
                    key = (dist, -self.vocab[cand], cand)
                    if best_key is None or key < best_key:
                        best, best_key = cand, key
        return best


# Chat shorthand spelled out for retrieval only (the policy reads the message as written).
SHORTHAND = {"u": "you", "ur": "your", "ppl": "people", "peeps": "people", "bc": "because", "cuz": "because", "coz": "because",
             "rn": "right now", "tho": "though", "thru": "through", "abt": "about", "smth": "something", "sth": "something",
             "w": "with", "wo": "without", "b4": "before", "2day": "today", "gonna": "going to", "wanna": "want to",
             "docs": "doctors", "doc": "doctor", "meds": "medications", "med": "medication", "pls": "please", "plz": "please",
             "govt": "government", "yrs": "years", "yr": "year", "hrs": "hours", "hr": "hour", "mins": "minutes", "wks": "weeks",
             "wk": "week", "esp": "especially", "def": "definitely", "prob": "probably", "diff": "different", "info": "information"}


def spell_out(words_: list[str]) -> list[str]:
    return [SHORTHAND.get(w, w) for w in words_]


def expand(text: str, speller: Speller | None) -> str:
    """The search text: the message with misspellings corrected, plus source words for lay phrases."""
    folded = fold(text)
    corrected = " ".join(speller.correct(w) for w in spell_out(words(folded))) if speller else folded
    extra = [v for pat, v in load_synonyms() if pat.search(folded) or pat.search(corrected)]
    extra.append(translate_terms(text))
    return " ".join([corrected, *extra]).strip()
