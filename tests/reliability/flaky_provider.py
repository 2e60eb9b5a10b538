"""An OpenAI-compatible chat endpoint on loopback that fails on purpose: rate limits (429), server errors
(500), replies slower than the client's timeout, bodies that are not JSON, empty completions and
completions in no expected format, each with a set probability from a seeded generator. The rest are
answered by a `responder`. Every request is logged with its time and outcome, and the bearer key seen."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[list[dict[str, Any]]], str]
FAULTS = ("rate_limit", "server_error", "slow", "not_json", "empty", "unreadable")


@dataclass(frozen=True)
class Logged:
    at: float
    prompt: str
    outcome: str
    authorization: str


@dataclass
class FlakyProvider:
    responder: Responder
    fault_rates: dict[str, float]
    slow_seconds: float = 2.0
    seed: int = 0
    log: list[Logged] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.fault_rates) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {FAULTS}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def outcome(self) -> str:
        with self._lock:
            draw = self._rng.random()
        for fault in FAULTS:
            rate = self.fault_rates.get(fault, 0.0)
            if draw < rate:
                return fault
            draw -= rate
        return "ok"

    def record(self, entry: Logged) -> None:
        with self._lock:
            self.log.append(entry)

    def outcomes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.log:
            counts[entry.outcome] = counts.get(entry.outcome, 0) + 1
        return counts


def _handler(provider: FlakyProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            messages = body["messages"]
            outcome = provider.outcome()
            provider.record(Logged(time.monotonic(), json.dumps(messages, sort_keys=True), outcome,
                                   self.headers.get("Authorization", "")))
            if outcome == "rate_limit":
                return self._send(429, {"error": {"message": "rate limited, slow down", "type": "rate_limit"}})
            if outcome == "server_error":
                return self._send(500, {"error": {"message": "the server fell over", "type": "server_error"}})
            if outcome == "slow":
                time.sleep(provider.slow_seconds)
            if outcome == "not_json":
                return self._send_raw(200, b"{this is not json")
            text = {"empty": "", "unreadable": "I would rather not say."}.get(outcome)
            return self._send(200, _completion(body["model"], provider.responder(messages) if text is None else text))

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            self._send_raw(status, json.dumps(payload).encode())

        def _send_raw(self, status: int, data: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on a slow reply

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _completion(model: str, text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-flaky", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": max(1, len(text.split())), "total_tokens": 21}}


@contextmanager
def serving(provider: FlakyProvider) -> Iterator[FlakyProvider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
