"""A pool of worker processes, one thread and one model each: llama.cpp scales with processes, not threads."""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from pipelines import settings
from pipelines.lm.errors import LMServerError, LMTimeout
from pipelines.lm.local import worker
from pipelines.lm.local.gguf import ensure_model

CONTEXT_TOKENS = 8192


class LocalModelPool:
    """Spreads requests from any number of threads over `workers` model processes."""

    def __init__(self, model_path: Path, workers: int, context_tokens: int = CONTEXT_TOKENS):
        self.model_path = model_path
        self.workers = workers
        self.context_tokens = context_tokens
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def generate(self, messages: list[dict[str, Any]], params: dict[str, Any], timeout: float) -> dict:
        executor = self._running_executor()
        try:
            return executor.submit(worker.generate, messages, params).result(timeout=timeout)
        except FutureTimeout as error:
            raise LMTimeout(f"the local model did not answer within {timeout:.0f} s") from error
        except BrokenProcessPool as error:
            self._discard(executor)
            raise LMServerError("a local model worker died; the pool restarts on the next call") from error

    def warm_up(self, timeout: float = 300.0) -> list[int]:
        """Start every worker and wait until each has loaded its model; returns their process ids."""
        executor = self._running_executor()
        with multiprocessing.get_context("spawn").Manager() as manager:
            barrier = manager.Barrier(self.workers)
            futures = [executor.submit(worker.ready, barrier, timeout) for _ in range(self.workers)]
            return [future.result(timeout=timeout) for future in futures]

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _running_executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=worker.load,
                    initargs=(str(self.model_path), self.context_tokens),
                )
            return self._executor

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)


_pool: LocalModelPool | None = None
_pool_lock = threading.Lock()


def shared_pool() -> LocalModelPool:
    """The process's pool, created on first use with the model assembled and `SIGFLOW_LOCAL_WORKERS`."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = LocalModelPool(ensure_model(settings.model_dir()), settings.local_workers())
            # A finalizer, not atexit: in a multiprocessing child, exit joins the child's own children
            # before atexit hooks run, and would wait forever on the pool's workers. Its priority is above
            # the executor queues' own finalizers (10), which would otherwise close them first.
            multiprocessing.util.Finalize(_pool, _pool.close, exitpriority=100)
        return _pool
