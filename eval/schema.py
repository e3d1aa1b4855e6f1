"""Reading and validating a question set (JSONL, eval-format.md) before any work is done.

Every problem stops the run with the line number and the field: malformed JSON, a missing or
wrongly typed field, an unknown `expect`, a duplicate id, `evidence` missing for an `answer` item.
Unknown fields are kept and copied to the results.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError, field_validator, model_validator

Expect = Literal["answer", "not_in_sources", "refuse_dosing", "crisis", "out_of_scope"]


class SetError(ValueError):
    """The question set is malformed; the message names the file, line and field."""


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: StrictStr


class Item(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: StrictStr
    question: StrictStr
    history: list[Turn] = []
    expect: Expect
    evidence: list[StrictStr] = []
    answer_keywords: list[StrictStr] = []

    @field_validator("id", "question")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    @model_validator(mode="after")
    def _evidence_for_answers(self) -> "Item":
        if self.expect == "answer" and not [e for e in self.evidence if e.strip()]:
            raise ValueError("evidence: at least one evidence string is required when expect is 'answer'")
        return self

    def extras(self) -> dict:
        return dict(self.model_extra or {})


def _describe(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if not loc:  # an item-level rule names its field first ("evidence: ...")
            loc, _, msg = msg.partition(": ") if ": " in msg else ("(item)", "", msg)
        if e["type"] == "literal_error" and e["loc"][-1] == "expect":
            msg = f"unknown value {e['input']!r}; use one of answer, not_in_sources, refuse_dosing, crisis, out_of_scope"
        parts.append(f"field '{loc}': {msg}")
    return "; ".join(parts)


def parse_set(lines: list[str], name: str = "<set>") -> list[Item]:
    items: list[Item] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SetError(f"{name}, line {n}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise SetError(f"{name}, line {n}: expected a JSON object, got {type(obj).__name__}")
        try:
            item = Item.model_validate(obj)
        except ValidationError as exc:
            raise SetError(f"{name}, line {n}: {_describe(exc)}") from None
        if item.id in seen:
            raise SetError(f"{name}, line {n}: field 'id': duplicate id {item.id!r} (first used on line {seen[item.id]})")
        seen[item.id] = n
        items.append(item)
    if not items:
        raise SetError(f"{name}: the question set is empty")
    return items


def load_set(path: str | Path) -> list[Item]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SetError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SetError(f"{path}: is a folder, expected a .jsonl file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SetError(f"{path}: not UTF-8 text (byte {exc.start}); a question set is JSON Lines in UTF-8") from None
    return parse_set(text.splitlines(), str(path))
