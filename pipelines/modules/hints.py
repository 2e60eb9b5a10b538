"""Advice for the steps of a block of code: `Refine` tells the next attempt what went wrong with the last,
and every `Predict` inside shows that advice to its LM as one more input."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HINT = "hint"
HINT_DESC = "advice from an earlier attempt at this input"
_active: ContextVar[str | None] = ContextVar("sigflow_hint", default=None)


@contextmanager
def hinted(advice: str | None) -> Iterator[None]:
    token = _active.set(advice or None)
    try:
        yield
    finally:
        _active.reset(token)


def current_hint() -> str | None:
    return _active.get()
