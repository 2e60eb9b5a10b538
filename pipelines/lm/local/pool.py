"""A pool of worker processes, one thread and one model each: llama.cpp scales with processes, not threads.

Requests from any number of threads wait in one queue; each worker slot has a dispatcher thread that feeds
its process one request at a time, so a free worker always takes a request: one whose prompt prefix it
already holds if there is one (`routing.py`), else the oldest."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

from pipelines import settings
from pipelines.lm.errors import LMServerError, LMTimeout
from pipelines.lm.local.gguf import ensure_model
from pipelines.lm.local.routing import Affinity, AffinityQueue

CONTEXT_TOKENS = 8192
_SOURCE_ROOT = Path(__file__).resolve().parents[3]  # where `pipelines` is importable from
_STARTUP_SECONDS = 300.0


class _Request:
    def __init__(self, messages: list[dict[str, Any]], params: dict[str, Any], timeout: float):
        self.line = json.dumps({"messages": messages, "params": params}) + "\n"
        # The worker reuses everything before the last message (see prefix.py), so that is what routes.
        self.prefix_key = hashlib.sha256(json.dumps(messages[:-1]).encode()).hexdigest()
        self.queued_at = 0.0
        self.timeout = timeout
        self.future: Future = Future()


class _Worker:
    """One model process and the thread that talks to it; the process restarts after a crash or timeout."""

    def __init__(self, pool: LocalModelPool, slot: int):
        self.pool = pool
        self.slot = slot
        self.process: subprocess.Popen | None = None
        self.pid: int | None = None
        self.ready = threading.Event()
        self.startup_error: BaseException | None = None
        self.timed_out = False
        self.affinity = Affinity()
        self._stderr: IO[bytes] | None = None
        self.thread = threading.Thread(target=self._run, name=f"sigflow-local-worker-{slot}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self._start_process_reporting_failure()
        while (request := self.pool.requests.take(self.affinity)) is not None:
            if self.process is None and not self._start_process_reporting_failure():
                request.future.set_exception(LMServerError(f"the local model worker cannot start: "
                                                           f"{self.startup_error}"))
                continue
            self._serve(request)
        self.stop()

    def _start_process_reporting_failure(self) -> bool:
        try:
            self._start_process()
            return True
        except (OSError, LMServerError) as error:
            self.startup_error = error
            return False
        finally:
            self.ready.set()

    def _start_process(self) -> None:
        # Kept open while the process lives (its tail explains a crash); closed in _forget_process.
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        environment = {**os.environ, "OMP_NUM_THREADS": "1",
                       "PYTHONPATH": os.pathsep.join(filter(None, [str(_SOURCE_ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.lm.local.worker", str(self.pool.model_path),
             str(self.pool.context_tokens), str(self.pool.prefix_cache_bytes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=environment, text=True,
        )
        reply = self._read_reply(_STARTUP_SECONDS)
        if reply is None or "ready" not in reply:
            raise LMServerError(f"the local model worker exited while loading the model: {self._stderr_tail()}")
        self.pid = reply["ready"]

    def _serve(self, request: _Request) -> None:
        self.timed_out = False
        try:
            self.process.stdin.write(request.line)
            self.process.stdin.flush()
            reply = self._read_reply(request.timeout)
        except (OSError, ValueError):
            reply = None
        if reply is None:
            failure = (LMTimeout(f"the local model did not answer within {request.timeout:g} s")
                       if self.timed_out else
                       LMServerError(f"a local model worker died; it restarts on the next call: {self._stderr_tail()}"))
            self._discard_process()
            request.future.set_exception(failure)
        elif "error" in reply:
            kind = ValueError if reply["kind"] == "ValueError" else LMServerError
            request.future.set_exception(kind(reply["error"]))
        else:
            request.future.set_result(reply["result"])

    def _read_reply(self, timeout: float) -> dict[str, Any] | None:
        """The next reply line, or None if the process ended (killed at `timeout`: a hung worker is dropped)."""
        watchdog = threading.Timer(timeout, self._expire, args=(self.process,))
        watchdog.start()
        try:
            line = self.process.stdout.readline()
        finally:
            watchdog.cancel()
        return json.loads(line) if line else None

    def _expire(self, process: subprocess.Popen) -> None:
        self.timed_out = True
        process.kill()

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace").strip()[-2000:] or "(no output)"

    def _discard_process(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        self._forget_process()

    def stop(self) -> None:
        if self.process is not None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
        self._forget_process()

    def _forget_process(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
        self.process, self.pid, self._stderr = None, None, None
        self.affinity = Affinity()  # a new process holds no prefix


class LocalModelPool:
    """Spreads requests from any number of threads over `workers` model processes."""

    def __init__(self, model_path: Path, workers: int, context_tokens: int = CONTEXT_TOKENS,
                 prefix_cache_bytes: int = settings.DEFAULT_PREFIX_CACHE_MB << 20):
        self.model_path = model_path
        self.workers = workers
        self.context_tokens = context_tokens
        self.prefix_cache_bytes = prefix_cache_bytes
        self.requests: AffinityQueue[_Request] = AffinityQueue()
        self._slots: list[_Worker] = []
        self._lock = threading.Lock()

    def generate(self, messages: list[dict[str, Any]], params: dict[str, Any], timeout: float) -> dict:
        self._ensure_started()
        request = _Request(messages, params, timeout)
        self.requests.put(request)
        return request.future.result()  # the worker's watchdog enforces the timeout

    def warm_up(self, timeout: float = _STARTUP_SECONDS) -> list[int]:
        """Start every worker and wait until each has loaded its model; returns their process ids."""
        self._ensure_started()
        for slot in self._slots:
            if not slot.ready.wait(timeout) or slot.pid is None:
                raise LMServerError(f"local model worker {slot.slot} did not start: {slot.startup_error}")
        return [slot.pid for slot in self._slots]

    def close(self) -> None:
        with self._lock:
            slots, self._slots = self._slots, []
        self.requests.close()
        for slot in slots:
            slot.thread.join(timeout=15)
        self.requests = AffinityQueue()  # the pool starts again on its next request

    def _ensure_started(self) -> None:
        with self._lock:
            if not self._slots:
                self._slots = [_Worker(self, slot) for slot in range(self.workers)]


_pool: LocalModelPool | None = None
_pool_lock = threading.Lock()


def shared_pool() -> LocalModelPool:
    """The process's pool, created on first use with the model assembled, `SIGFLOW_LOCAL_WORKERS` and
    `SIGFLOW_PREFIX_CACHE_MB`."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = LocalModelPool(ensure_model(settings.model_dir()), settings.local_workers(),
                                   prefix_cache_bytes=settings.prefix_cache_mb() << 20)
            atexit.register(_pool.close)
        return _pool
