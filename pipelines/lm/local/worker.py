"""A local-model worker process: one llama.cpp model on one thread, answering JSON lines on stdin/stdout.

Run as `python -m pipelines.lm.local.worker MODEL_PATH CONTEXT_TOKENS PREFIX_CACHE_BYTES`. A plain subprocess, not
multiprocessing: the caller's main module is never re-imported, so scripts without a `__main__` guard work."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# Sampling and generation settings a chat completion accepts; anything else a caller sends is not for us.
GENERATION_PARAMS = frozenset({
    "temperature", "top_p", "top_k", "min_p", "max_tokens", "stop", "seed", "presence_penalty",
    "frequency_penalty", "repeat_penalty", "response_format", "logit_bias",
})


def serve(model_path: str, context_tokens: int, prefix_cache_bytes: int) -> None:
    # The protocol gets its own copy of stdout; fd 1 then points at stderr, so anything native code
    # prints cannot corrupt a reply.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    os.environ["OMP_NUM_THREADS"] = "1"
    from llama_cpp import Llama

    from pipelines.lm.local.prefix import PrefixReuse

    llama = Llama(model_path=model_path, n_ctx=context_tokens, n_threads=1, n_threads_batch=1, seed=0,
                  verbose=False)
    reuse = PrefixReuse(llama, prefix_cache_bytes)
    _reply(replies, {"ready": os.getpid()})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            _reply(replies, {"result": generate(llama, reuse, request["messages"], request["params"])})
        except Exception as error:  # reported to the caller, who maps it to a typed error
            _reply(replies, {"error": str(error), "kind": type(error).__name__})


def generate(llama: Any, reuse: Any, messages: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """One chat completion from the canonical state for its prompt (see `prefix.py`); the usage says how
    many prompt tokens came from a kept prefix, as OpenAI's `cached_tokens` does."""
    reused = reuse.prepare(messages)
    accepted = {name: value for name, value in params.items() if name in GENERATION_PARAMS}
    answer = llama.create_chat_completion(messages=messages, **accepted)
    answer.setdefault("usage", {})["prompt_tokens_details"] = {"cached_tokens": reused}
    return answer


def _reply(stream: Any, payload: dict[str, Any]) -> None:
    stream.write(json.dumps(payload) + "\n")
    stream.flush()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
