"""A scripted LM for unit tests and overhead benchmarks: answers from a queue, records every call."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pipelines.lm.client import LM
from pipelines.lm.errors import LMError
from pipelines.lm.transports import register_transport, unregister_transport
from pipelines.lm.types import Completion

Answer = str | Completion | Exception
Responder = Callable[[list[dict[str, Any]]], str]
_names = itertools.count(1)


@dataclass(frozen=True)
class ScriptedCall:
    messages: list[dict[str, Any]]
    params: dict[str, Any]


class ScriptedLM:
    """Registers as the provider of its own model string (`scripted/N`), so `LM(fake.model)` reaches it
    through the door like any provider. Queued exceptions are raised in turn; a `responder` answers when
    the queue is empty. With `native_tools` it says it takes tool definitions; a queued `Completion` (with
    `tool_calls`) is answered as it is."""

    def __init__(self, answers: Iterable[Answer] = (), *, responder: Responder | None = None,
                 native_tools: bool = False):
        self.model = f"scripted/{next(_names)}"
        self.history: list[ScriptedCall] = []
        self._queue: deque[Answer] = deque(answers)
        self._responder = responder
        self._lock = threading.Lock()
        register_transport(self.model, self._complete, native_tools=native_tools)

    def enqueue(self, answers: Iterable[Answer]) -> None:
        with self._lock:
            self._queue.extend(answers)

    def lm(self, **settings: Any) -> LM:
        """An `LM` on this script; settings as for `LM` (the backoff defaults to none, for fast tests)."""
        return LM(self.model, **{"backoff_seconds": 0.0, **settings})

    def close(self) -> None:
        unregister_transport(self.model)

    def __enter__(self) -> ScriptedLM:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _complete(self, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
        with self._lock:
            self.history.append(ScriptedCall(messages=messages, params=params))
            answer = self._queue.popleft() if self._queue else None
        if answer is None and self._responder is not None:
            answer = self._responder(messages)
        if answer is None:
            raise LMError("the scripted LM has no answer queued for this call", model=model)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, Completion):
            return answer
        prompt_words = sum(len(str(message.get("content", "")).split()) for message in messages)
        return Completion(text=answer, model=model, prompt_tokens=prompt_words,
                          completion_tokens=len(answer.split()), cost=0.0, finish_reason="stop")
