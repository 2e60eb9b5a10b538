"""Runs independent work on threads, each task inside a copy of the caller's context, so usage trackers,
budgets and settings scoped around the call apply inside every task."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from tqdm import tqdm

Item = TypeVar("Item")
Result = TypeVar("Result")


def parallel_map(function: Callable[[Item], Result], items: Iterable[Item], *, num_threads: int,
                 description: str | None = None) -> list[Result]:
    """`[function(item) for item in items]` on `num_threads` threads, in order, with a progress bar when
    `description` is given. The first exception propagates after the running tasks finish."""
    work = list(items)
    if len(work) == 1 and description is None:  # one task: no pool to start and join (a served request's ms)
        return [contextvars.copy_context().run(function, work[0])]
    with ThreadPoolExecutor(max_workers=max(1, num_threads)) as executor:
        futures = [executor.submit(contextvars.copy_context().run, function, item) for item in work]
        progress = tqdm(total=len(work), desc=description, disable=description is None or None)
        try:
            results = []
            for future in futures:
                results.append(future.result())
                progress.update(1)
            return results
        finally:
            progress.close()


@contextmanager
def beside(function: Callable[[], Result]) -> Iterator[Future[Result]]:
    """`function()` on a thread of its own while the block runs, in a copy of the caller's context; leaving
    the block waits for it. A single sequential LM call leaves a core idle; beside a batch of calls it does not."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        yield executor.submit(contextvars.copy_context().run, function)
