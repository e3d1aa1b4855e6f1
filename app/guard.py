"""The output guard: no number with a dose unit ever leaves the engine, whatever the sources say.

Applied to every reply (text, quotes and the passage texts shown as sources). A quote that carries a
dose amount is dropped from an answer; anywhere else the amount is masked.
"""

from __future__ import annotations

import re
from functools import lru_cache

MASK = "[amount removed]"
_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
          "eighteen|nineteen|twenty|thirty|forty|fourty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|half|a\\s+quarter|a\\s+few|a\\s+couple\\s+of")
_NUM = rf"\d*[.,]?\d+|(?:{_WORDS})(?:[\s-]+(?:{_WORDS}))*"
DOSE_NUMBER = re.compile(
    rf"(?<![\w.])(?:{_NUM})(?:\s*(?:-|–|—|to|or)\s*(?:{_NUM}))?\s*"
    r"(?:mg\s*/\s*kg|mg/kg|mgs?|milligrams?|mcg|µg|μg|ug|micrograms?|ml|mls|millilit(?:er|re)s?|cc|iu|i\.u\.|international\s+units?|units?\s+per|grams?|g)(?![a-z])",
    re.IGNORECASE,
)


# Cached: the texts checked are mostly the corpus's own sentences and passages, the same every time.
@lru_cache(maxsize=8192)
def has_dose_number(text: str) -> bool:
    return bool(DOSE_NUMBER.search(text))


@lru_cache(maxsize=4096)
def mask_dose_numbers(text: str) -> str:
    return DOSE_NUMBER.sub(MASK, text)
