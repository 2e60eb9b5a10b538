"""Sampling for a block of code: inside `sampled(...)` every LM call draws a sample of its own (a
temperature and a rollout id, so the cache keeps one answer per attempt instead of handing back the shared
one), whichever LM each step holds. `BestOfN` and `Refine` run each attempt in one."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass

from pipelines.lm.scope import scoped


@dataclass(frozen=True)
class Sampling:
    temperature: float
    rollout_id: str


_active: ContextVar[Sampling | None] = ContextVar("sigflow_sampling", default=None)


def sampled(*, temperature: float, rollout_id: str) -> AbstractContextManager[Sampling]:
    return scoped(_active, Sampling(temperature, rollout_id))


def current_sampling() -> Sampling | None:
    return _active.get()
