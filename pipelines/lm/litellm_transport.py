"""The only module that imports litellm (lazily, on the first call to a litellm provider): sends a request
and maps litellm's errors to ours."""

from __future__ import annotations

import os
import threading
from typing import Any

from pipelines.lm import errors
from pipelines.lm.types import Completion

_litellm = None
_import_lock = threading.Lock()


def complete(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
    """One litellm completion (litellm's own retries off: the door retries)."""
    litellm = load_litellm()
    try:
        response = litellm.completion(model=model, messages=messages, num_retries=0, **params)
    except Exception as error:
        raise map_error(error, model) from error
    choice = response.choices[0]
    text = choice.message.content or ""
    calls = tuple({"name": call.function.name, "arguments": call.function.arguments or "{}"}
                  for call in (getattr(choice.message, "tool_calls", None) or ()))
    if not text and not calls:
        raise errors.LMEmptyResponse("the provider returned an empty completion", model=model)
    usage = getattr(response, "usage", None)
    return Completion(
        text=text,
        model=model,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cost=_cost(litellm, response),
        finish_reason=choice.finish_reason,
        tool_calls=calls,
    )


def native_tools(model: str) -> bool:
    """Whether litellm knows `model` to take OpenAI-style tool definitions (unknown models: no)."""
    try:
        return bool(load_litellm().supports_function_calling(model=model))
    except Exception:
        return False


def _cost(litellm, response) -> float | None:
    try:
        return float(litellm.completion_cost(completion_response=response))
    except Exception:
        return None  # litellm prices only the models in its cost map


_ERROR_TYPES = (
    # Order matters: subclasses before their bases (a context-window error is a bad request, a timeout
    # is a connection error in openai's hierarchy).
    ("ContextWindowExceededError", errors.LMContextWindowExceeded),
    ("RateLimitError", errors.LMRateLimited),
    ("Timeout", errors.LMTimeout),
    ("AuthenticationError", errors.LMAuthenticationError),
    ("PermissionDeniedError", errors.LMAuthenticationError),
    ("NotFoundError", errors.LMNotFound),
    ("BadRequestError", errors.LMBadRequest),
    ("UnprocessableEntityError", errors.LMBadRequest),
    ("APIConnectionError", errors.LMConnectionError),
    ("InternalServerError", errors.LMServerError),
    ("ServiceUnavailableError", errors.LMServerError),
    ("BadGatewayError", errors.LMServerError),
)


def map_error(error: Exception, model: str) -> errors.LMError:
    """The typed sigflow error for a litellm (or provider) exception, keeping the provider's message."""
    litellm = load_litellm()
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    if "LLM Provider NOT provided" in message:
        return errors.LMNotFound(f"no provider for this model string: {message}", model=model)
    for name, mapped in _ERROR_TYPES:
        if isinstance(error, getattr(litellm, name)):
            return mapped(message, model=model)
    status = getattr(error, "status_code", None)
    if isinstance(status, int) and status >= 500:
        return errors.LMServerError(message, model=model)
    return errors.LMError(f"{type(error).__name__}: {message}", model=model)


def load_litellm():
    """litellm, imported once and offline-safe."""
    global _litellm
    with _import_lock:
        if _litellm is None:
            # Read at import: without it, importing litellm tries to download its model cost map (seconds
            # lost offline). No API sets it before the import, so the environment does.
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True
            litellm.telemetry = False
            _litellm = litellm
        return _litellm
