"""The pool's one queue, which hands a worker a request whose prompt prefix it already holds when there is
one, so a prefix is evaluated by as few workers as possible; the oldest request otherwise."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from typing import Generic, Protocol, TypeVar

# A request whose prefix no free worker holds waits at most this long while others are preferred to it.
PATIENCE_SECONDS = 2.0
# Prefixes a worker is taken to hold: its most recent ones (its snapshots may hold fewer; then it misses).
REMEMBERED_PREFIXES = 32


class Routed(Protocol):
    prefix_key: str
    queued_at: float


R = TypeVar("R", bound=Routed)


class Affinity:
    """The prefix keys one worker served last, most recent at the end."""

    def __init__(self) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def served(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        if len(self._keys) > REMEMBERED_PREFIXES:
            self._keys.popitem(last=False)


class AffinityQueue(Generic[R]):
    """Requests from any number of threads; `take` blocks until there is one, or returns None once the
    queue is closed and empty."""

    def __init__(self) -> None:
        self._pending: deque[R] = deque()
        self._closed = False
        self._changed = threading.Condition()

    def put(self, request: R) -> None:
        with self._changed:
            request.queued_at = time.monotonic()
            self._pending.append(request)
            self._changed.notify()

    def take(self, affinity: Affinity) -> R | None:
        with self._changed:
            while not self._pending and not self._closed:
                self._changed.wait()
            if not self._pending:
                return None
            chosen = self._choose(affinity)
            self._pending.remove(chosen)
        affinity.served(chosen.prefix_key)
        return chosen

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _choose(self, affinity: Affinity) -> R:
        oldest = self._pending[0]
        if time.monotonic() - oldest.queued_at >= PATIENCE_SECONDS:
            return oldest
        return next((request for request in self._pending if request.prefix_key in affinity), oldest)
