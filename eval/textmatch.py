"""The one text normalisation used to match evidence, keywords and quotes (see eval-format.md).

Ignores case, runs of white space (including non-breaking spaces) and the difference between
straight and typographic quotes, apostrophes and dashes. Nothing else is forgiven.
"""

from __future__ import annotations

import re

_FOLD = str.maketrans({"‘": "'", "’": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"',
                       "–": "-", "—": "-", "‒": "-", "―": "-", "‐": "-", "‑": "-", "−": "-"})
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_FOLD).casefold()).strip()


def contains(haystack: str, needle: str) -> bool:
    n = normalize(needle)
    return bool(n) and n in normalize(haystack)
