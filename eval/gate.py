"""Turning metrics into a gate: `--fail-under METRIC=VALUE` and `--fail-over METRIC=VALUE`.

A metric is named as in summary.json's "overall" (e.g. `retrieval_recall@3`), or scoped as
`SPLIT/METRIC` (`heldout/grounded_answer_rate`) or `expect:KIND/METRIC` (`expect:crisis/crisis_recall`).
"""

from __future__ import annotations


class GateError(ValueError):
    """A threshold is malformed or names an unknown metric."""


def parse(spec: str) -> tuple[str, float]:
    name, sep, value = spec.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise GateError(f"threshold {spec!r} must look like METRIC=VALUE, e.g. retrieval_recall@3=0.9") from None


def lookup(summary: dict, name: str) -> float | None:
    scope, _, metric = name.rpartition("/")
    if not scope:
        table = summary["overall"]
    elif scope.startswith("expect:"):
        table = summary.get("by_expect", {}).get(scope[7:], {})
    else:
        table = summary.get("by_split", {}).get(scope, {})
    if metric not in summary["overall"]:
        raise GateError(f"unknown metric {metric!r}; known: {', '.join(sorted(summary['overall']))}")
    return table.get(metric)


def check(summary: dict, under: list[str], over: list[str]) -> list[str]:
    """The shortfalls, as readable lines (empty when every threshold holds)."""
    problems = []
    for spec in under:
        name, limit = parse(spec)
        value = lookup(summary, name)
        if value is None or value < limit:
            problems.append(f"{name} = {value} is below {limit}")
    for spec in over:
        name, limit = parse(spec)
        value = lookup(summary, name)
        if value is None or value > limit:
            problems.append(f"{name} = {value} is above {limit}")
    return problems
