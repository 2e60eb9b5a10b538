"""A benchmark that measures nothing but how often it ran: the harness's own tests use it."""

from __future__ import annotations

from typing import Any

RUNS: list[bool] = []


def run(quick: bool) -> dict[str, Any]:
    RUNS.append(quick)
    return {"runs": len(RUNS)}


def report(result: dict[str, Any]) -> str:
    return f"ran {result['runs']} time(s)"
