"""Question sets -> replies -> metrics -> report.

Uses the product only through `Engine.answer` (in-process) or its HTTP API (`--url`), so what is
measured is what users get. Deterministic and offline: no LLM judge.
"""
