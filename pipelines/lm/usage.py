"""What LM calls cost, accumulated per scope: `with track_usage() as usage: ...`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, fields, replace

from pipelines.lm.scope import ScopedStack, scoped


@dataclass(frozen=True)
class Usage:
    """Counters of LM work. `calls` are requests that reached a provider; cache hits are counted apart, with
    the tokens and latency their answers took when first generated (`cached_tokens`, `cached_latency_seconds`)."""

    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latency_seconds: float = 0.0
    retries: int = 0
    failures: int = 0
    parse_retries: int = 0
    parse_failures: int = 0
    retrievals: int = 0
    cached_tokens: int = 0
    cached_latency_seconds: float = 0.0
    judge_calls: int = 0
    """Of `calls`, those an LM judge made to score a program's answers (`evaluation.judges`)."""
    judge_cache_hits: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def work_tokens(self) -> int:
        """Tokens the program's calls take, whether this time they came from the cache or not."""
        return self.total_tokens + self.cached_tokens

    @property
    def work_latency_seconds(self) -> float:
        """LM latency the program's calls take when uncached: what a user without the cache would wait."""
        return self.latency_seconds + self.cached_latency_seconds

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


class UsageTracker:
    """Thread-safe totals of the calls made inside one `track_usage` scope, overall and per model."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_model: dict[str, Usage] = {}

    def add(self, model: str, delta: Usage) -> None:
        with self._lock:
            self._by_model[model] = self._by_model.get(model, Usage()) + delta

    @property
    def total(self) -> Usage:
        with self._lock:
            return sum(self._by_model.values(), Usage())

    @property
    def by_model(self) -> dict[str, Usage]:
        with self._lock:
            return dict(self._by_model)

    def __getattr__(self, name: str):
        """`tracker.calls` reads the total, so a scope's numbers are one attribute away."""
        if name in Usage.__dataclass_fields__ or name == "total_tokens":
            return getattr(self.total, name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"UsageTracker({self.total})"


_trackers: ScopedStack[UsageTracker] = ScopedStack("sigflow_usage_trackers")


@contextmanager
def track_usage() -> Iterator[UsageTracker]:
    """Count every LM call made in this scope (and in threads started through `parallel_map`)."""
    tracker = UsageTracker()
    token = _trackers.push(tracker)
    try:
        yield tracker
    finally:
        _trackers.pop(token)


_judging: ContextVar[bool] = ContextVar("sigflow_judging", default=False)


def judging() -> AbstractContextManager:
    """Inside the block, LM calls and cache hits are also counted as a judge's (`judge_calls`)."""
    return scoped(_judging, True)


def record(model: str, delta: Usage) -> None:
    """Add `delta` to every tracker whose scope is active here."""
    if _judging.get() and (delta.calls or delta.cache_hits):
        delta = replace(delta, judge_calls=delta.calls, judge_cache_hits=delta.cache_hits)
    for tracker in _trackers.active():
        tracker.add(model, delta)
