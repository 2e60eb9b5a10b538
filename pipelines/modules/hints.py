"""Advice for the steps of a block of code: `Refine` tells the next attempt what went wrong with the last,
and every `Predict` inside shows that advice to its LM as one more input."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar

from pipelines.lm.scope import scoped

HINT = "hint"
HINT_DESC = "advice from an earlier attempt at this input"
_active: ContextVar[str | None] = ContextVar("sigflow_hint", default=None)


def hinted(advice: str | None) -> AbstractContextManager[str | None]:
    return scoped(_active, advice or None)


def current_hint() -> str | None:
    return _active.get()
