"""The default LM for modules that have none of their own: `configure(lm=...)` for the process,
`with context(lm=...)` for one block of code (and the threads it starts through `parallel_map`)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from contextvars import ContextVar

from pipelines.lm.client import LM
from pipelines.lm.scope import scoped

_configured: dict[str, LM | None] = {"lm": None}
_configured_lock = threading.Lock()
_scoped_lm: ContextVar[LM | None] = ContextVar("sigflow_scoped_lm", default=None)


def configure(*, lm: LM | None) -> None:
    """Set the process-wide default LM."""
    with _configured_lock:
        _configured["lm"] = lm


def context(*, lm: LM) -> AbstractContextManager[LM]:
    """Use `lm` by default inside this block only; other threads keep theirs."""
    return scoped(_scoped_lm, lm)


def current_lm() -> LM:
    """The LM in force here: the block's, else the configured one, else a default `LM()`."""
    scoped = _scoped_lm.get()
    if scoped is not None:
        return scoped
    with _configured_lock:
        if _configured["lm"] is None:
            _configured["lm"] = LM()
        return _configured["lm"]
