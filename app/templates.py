"""Reply wording from `app/data/replies.toml`, filled in with the deployment's settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from app.settings import CrisisResources

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Templates:
    notice: str
    refuse_dosing: str
    crisis: str
    out_of_scope: str
    not_in_sources: str
    related_intro: str
    input_empty: str
    input_too_long: str
    input_unreadable: str


def load_templates(crisis: CrisisResources, path: Path = DATA / "replies.toml") -> Templates:
    d = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    values = crisis.model_dump()
    values["line_text_lower"] = values["line_text"][:1].lower() + values["line_text"][1:]
    return Templates(
        notice=d["notice"], refuse_dosing=d["refuse_dosing"], crisis=d["crisis"].format(**values),
        out_of_scope=d["out_of_scope"], not_in_sources=d["not_in_sources"], related_intro=d["related_intro"],
        input_empty=d["input"]["empty"], input_too_long=d["input"]["too_long"], input_unreadable=d["input"]["unreadable"],
    )
