"""The only module that imports litellm (lazily): sends a request, maps litellm's errors to ours, and
plugs the embedded local model in as litellm's `local/` provider."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from pipelines.lm import errors
from pipelines.lm.types import Completion
from pipelines.settings import LOCAL_MODEL

_LOCAL_PROVIDER = LOCAL_MODEL.split("/", 1)[0]
_LOCAL_NAME = LOCAL_MODEL.split("/", 1)[1]
_DEFAULT_TIMEOUT_SECONDS = 600.0

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
    text = choice.message.content
    if not text:
        raise errors.LMEmptyResponse("the provider returned an empty completion", model=model)
    usage = getattr(response, "usage", None)
    return Completion(
        text=text,
        model=model,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cost=_cost(litellm, response, model),
        finish_reason=choice.finish_reason,
    )


def _cost(litellm, response, model: str) -> float | None:
    if model.startswith(f"{_LOCAL_PROVIDER}/"):
        return 0.0
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
    """The typed sigflow error for a litellm (or provider) exception, keeping the provider's message.
    litellm wraps what a custom provider raises in its own `APIConnectionError`: a typed error already
    in the chain wins."""
    typed = _typed_error_in_chain(error)
    if typed is not None:
        return typed
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


def _typed_error_in_chain(error: BaseException | None) -> errors.LMError | None:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, errors.LMError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def load_litellm():
    """litellm, imported once, offline-safe, with the local provider registered: also for other litellm
    users in the process (the DSPy reference benchmark)."""
    global _litellm
    with _import_lock:
        if _litellm is None:
            # Without this, importing litellm tries to download its model cost map (seconds lost offline).
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            import litellm

            litellm.suppress_debug_info = True
            litellm.telemetry = False
            litellm.custom_provider_map = [
                *[entry for entry in litellm.custom_provider_map if entry["provider"] != _LOCAL_PROVIDER],
                {"provider": _LOCAL_PROVIDER, "custom_handler": _local_provider(litellm)},
            ]
            _litellm = litellm
        return _litellm


def _local_provider(litellm):
    """litellm's handler for `local/...` model strings, answering from the worker-process pool."""

    class LocalProvider(litellm.CustomLLM):
        def completion(self, model, messages, api_base, custom_prompt_dict, model_response, print_verbose,
                       encoding, api_key, logging_obj, optional_params, *args, timeout=None, **kwargs):
            from pipelines.lm.local.pool import shared_pool

            # litellm passes the model name without its `local/` prefix.
            if model != _LOCAL_NAME:
                raise errors.LMNotFound(f"the embedded provider has one model, {LOCAL_MODEL!r}",
                                        model=f"{_LOCAL_PROVIDER}/{model}")
            seconds = float(timeout) if isinstance(timeout, int | float) else _DEFAULT_TIMEOUT_SECONDS
            try:
                answer = shared_pool().generate(messages, dict(optional_params), timeout=seconds)
            except ValueError as error:
                too_long = "context window" in str(error)
                mapped = errors.LMContextWindowExceeded if too_long else errors.LMBadRequest
                raise mapped(str(error), model=LOCAL_MODEL) from error
            return litellm.ModelResponse(**answer)

        async def acompletion(self, *args, **kwargs):
            return await asyncio.to_thread(self.completion, *args, **kwargs)

    return LocalProvider()
