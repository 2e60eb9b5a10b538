"""Traces of predictor calls: which predictor saw which inputs and gave which outputs, collected per scope
so an optimizer can turn a successful run into demos for every predictor it passed through."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.modules.module import Predictor


@dataclass(frozen=True)
class TraceStep:
    predictor: Predictor
    inputs: dict[str, Any]
    outputs: dict[str, Any]


_active: ContextVar[list[TraceStep] | None] = ContextVar("sigflow_trace", default=None)


@contextmanager
def collect_trace() -> Iterator[list[TraceStep]]:
    """Record every predictor call made in this scope (threads copy the context, so give each its own)."""
    steps: list[TraceStep] = []
    token = _active.set(steps)
    try:
        yield steps
    finally:
        _active.reset(token)


def record_step(predictor: Predictor, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    steps = _active.get()
    if steps is not None:
        steps.append(TraceStep(predictor, dict(inputs), dict(outputs)))
