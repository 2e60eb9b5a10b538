"""Code that runs inside a local-model worker process: one llama.cpp model on one thread."""

from __future__ import annotations

import os
from typing import Any

# Sampling and generation settings a chat completion accepts; anything else a caller sends is not for us.
GENERATION_PARAMS = frozenset({
    "temperature", "top_p", "top_k", "min_p", "max_tokens", "stop", "seed", "presence_penalty",
    "frequency_penalty", "repeat_penalty", "response_format", "logit_bias",
})

_llama = None


def load(model_path: str, n_ctx: int) -> None:
    """Process initializer: pin every thread pool to one thread, then load the model once."""
    global _llama
    os.environ["OMP_NUM_THREADS"] = "1"
    from llama_cpp import Llama

    _llama = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=1, n_threads_batch=1, seed=0, verbose=False)


def generate(messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """One chat completion. `reset()` first: reusing the previous prompt's prefix changes the kernel path,
    and with it the output at temperature 0."""
    _llama.reset()
    accepted = {name: value for name, value in params.items() if name in GENERATION_PARAMS}
    return _llama.create_chat_completion(messages=messages, **accepted)


def ready(barrier: Any, timeout: float) -> int:
    """Answers once the model is loaded (the initializer runs first) and every other worker got here too:
    the barrier makes each warm-up task land on a process of its own."""
    barrier.wait(timeout)
    return os.getpid()
