"""Deployment settings: one validated object, read from a TOML file and `KETA_*` environment variables.

Precedence: defaults < TOML file (`--config FILE` or `KETA_CONFIG`) < environment. Nested fields are
set from the environment with a double underscore, e.g. `KETA_CRISIS__EMERGENCY_NUMBER=999`; lists
take comma-separated values. A bad value stops start-up with a message naming the setting.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kb.documents import DEFAULT_DOCS_DIR

ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "KETA_"


class SettingsError(ValueError):
    """A setting is invalid; the message names it and the source it came from."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrisisResources(_Strict):
    """Shown first in every crisis reply. Defaults are for the United States."""

    region: str = "United States"
    emergency_number: str = "911"
    line_name: str = "988 Suicide & Crisis Lifeline"
    line_phone: str = "988"
    line_text: str = "Text 988"
    line_url: str = "https://988lifeline.org"
    elsewhere_url: str = "https://findahelpline.com"


class Branding(_Strict):
    clinic_name: str = "Ketamine Info"
    welcome: str = "Ask me about ketamine for depression and anxiety. I answer only from the listed sources."
    primary_color: str = Field("#0f766e", pattern=r"^#[0-9a-fA-F]{6}$")
    accent_color: str = Field("#f8fafc", pattern=r"^#[0-9a-fA-F]{6}$")
    position: str = Field("right", pattern=r"^(left|right)$")


class Server(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    allowed_origins: tuple[str, ...] = ()
    rate_limit: str = "30/minute"  # per client, see https://limits.readthedocs.io (e.g. "10/minute;200/day")
    rate_limit_storage: str = "memory://"  # "redis://host:6379" to share counters between replicas
    trust_proxy: bool = False
    log_conversations: bool = False
    max_body_bytes: int = Field(64_000, ge=1_000)
    max_concurrency: int = Field(32, ge=1, le=256)  # answers in flight; their query encodings share batches
    max_queue: int = Field(64, ge=0)
    batch_window_ms: float = Field(3.0, ge=0, le=50)  # micro-batching of query encoding; 0 turns it off
    log_file: Path = Path("build/conversations.jsonl")

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, v: str) -> str:
        from limits import parse_many

        try:
            parse_many(v)
        except ValueError:
            raise ValueError(f"rate limit {v!r} must look like '30/minute' or '10/minute;200/day'") from None
        return v

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for o in v:
            if o != "*" and not (o.startswith("http://") or o.startswith("https://")) or o.endswith("/"):
                raise ValueError(f"origin {o!r} must look like https://clinic.example (scheme and host, no trailing slash)")
        return v


class Retrieval(_Strict):
    top_k: int = Field(5, ge=1, le=50)
    candidate_passages: int = Field(4, ge=1, le=20)
    # passages whose sentences the learned ranker reads to reorder them (0: keep the fused order)
    rerank_passages: int = Field(8, ge=0, le=50)
    max_sentences: int = Field(4, ge=1, le=6)
    max_answer_words: int = Field(120, ge=20, le=400)
    mode: str = Field("hybrid", pattern=r"^(dense|bm25|hybrid)$")
    use_history: bool = True
    # a follow-up's ranker reads which sentences the previous reply quoted (and searches around them)
    read_previous_reply: bool = True


class Settings(_Strict):
    docs_dir: Path = DEFAULT_DOCS_DIR
    index_dir: Path = ROOT / "build" / "index"
    model_path: Path | None = None
    max_input_chars: int = Field(1000, ge=10, le=100_000)
    crisis: CrisisResources = CrisisResources()
    branding: Branding = Branding()
    server: Server = Server()
    retrieval: Retrieval = Retrieval()


def _env_overrides(environ: dict[str, str]) -> dict:
    out: dict = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        path = key[len(ENV_PREFIX) :].lower().split("__")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SettingsError(f"environment variable {key} conflicts with {ENV_PREFIX}{part.upper()}: "
                                    f"'{part}' is a group of settings; set its fields as {ENV_PREFIX}{part.upper()}__FIELD")
        if isinstance(node.get(path[-1]), dict):
            raise SettingsError(f"environment variable {key} sets '{path[-1]}', which is a group of settings; "
                                f"set its fields as {key}__FIELD")
        node[path[-1]] = value.split(",") if path[-1] in {"allowed_origins"} and value else value
    return out


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for k, v in extra.items():
        merged[k] = _merge(merged[k], v) if isinstance(v, dict) and isinstance(merged.get(k), dict) else v
    return merged


def load_settings(config: str | Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    config = config or environ.get(ENV_PREFIX + "CONFIG")
    data: dict = {}
    if config:
        path = Path(config)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"settings file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None
    data = _merge(data, _env_overrides(environ))
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        where = f" (from {config} and KETA_* environment variables)" if config else " (from KETA_* environment variables)"
        raise SettingsError(f"invalid settings{where}: {problems}") from None
