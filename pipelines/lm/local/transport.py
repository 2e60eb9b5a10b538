"""The embedded model as a transport of the LM door: a request goes straight to the worker-process pool,
and the pool's failures come back as the door's typed errors."""

from __future__ import annotations

from typing import Any

from pipelines.lm import errors
from pipelines.lm.local.pool import shared_pool
from pipelines.lm.types import Completion
from pipelines.settings import LOCAL_MODEL

PROVIDER = LOCAL_MODEL.split("/", 1)[0]
DEFAULT_TIMEOUT_SECONDS = 600.0


def serves(model: str) -> bool:
    """Whether `model` names the embedded provider (`local/...`)."""
    return model.startswith(f"{PROVIDER}/")


def complete(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
    """One chat completion from the pool; the embedded model costs nothing."""
    if model != LOCAL_MODEL:
        raise errors.LMNotFound(f"the embedded provider has one model, {LOCAL_MODEL!r}", model=model)
    timeout = params.get("timeout")
    seconds = float(timeout) if isinstance(timeout, int | float) else DEFAULT_TIMEOUT_SECONDS
    try:
        answer = shared_pool().generate(messages, params, timeout=seconds)
    except ValueError as error:  # llama.cpp's word for a prompt it cannot take
        mapped = errors.LMContextWindowExceeded if "context window" in str(error) else errors.LMBadRequest
        raise mapped(str(error), model=model) from error
    choice, usage = answer["choices"][0], answer.get("usage") or {}
    text = choice["message"].get("content")
    if not text:
        raise errors.LMEmptyResponse("the embedded model returned an empty completion", model=model)
    return Completion(text=text, model=model, prompt_tokens=usage.get("prompt_tokens", 0),
                      completion_tokens=usage.get("completion_tokens", 0), cost=0.0,
                      finish_reason=choice.get("finish_reason"))
