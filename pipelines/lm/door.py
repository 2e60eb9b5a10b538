"""The one door every LM call passes: cache, budget, retries, usage and tracing around one transport."""

from __future__ import annotations

import dataclasses
import os
import time

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from pipelines import settings
from pipelines.lm import budget, tracing
from pipelines.lm.cache import cache_at, cache_key
from pipelines.lm.errors import LMError
from pipelines.lm.transports import transport_for
from pipelines.lm.types import Completion, LMRequest
from pipelines.lm.usage import Usage, record

# Characters per token assumed when reserving budget for a prompt: below the usual 4, so the estimate errs
# on the side of stopping early rather than overspending.
_CHARS_PER_TOKEN_ESTIMATE = 3


def send(request: LMRequest) -> Completion:
    """Answer `request` from the cache, or from its provider under the active budgets, with retries."""
    key = _key(request)
    with tracing.lm_span(request) as span:
        cached = _lookup(key)
        if cached is not None:
            record(request.model, Usage(cache_hits=1, cached_tokens=cached.prompt_tokens + cached.completion_tokens,
                                        cached_latency_seconds=cached.latency_seconds))
            completion = cached
        else:
            completion = _call_with_retries(request)
            if key is not None:
                _response_cache().put(key, request.model, completion.to_cache())
        tracing.end_span(span, completion)
        return completion


def _key(request: LMRequest) -> str | None:
    if not request.use_cache:
        return None
    params = dict(request.params)
    if request.rollout_id is not None:
        params["rollout_id"] = request.rollout_id
    return cache_key(request.model, request.messages, params)


def _response_cache():
    return cache_at(os.path.join(settings.cache_dir(), "lm-cache.sqlite3"))


def _lookup(key: str | None) -> Completion | None:
    if key is None:
        return None
    stored = _response_cache().get(key)
    if stored is None:
        return None
    try:
        return Completion.from_cache(stored)
    except TypeError:
        return None  # an entry of another shape: a miss, and the fresh answer replaces it


def _call_with_retries(request: LMRequest) -> Completion:
    retrying = Retrying(
        stop=stop_after_attempt(request.num_retries + 1),
        wait=wait_exponential_jitter(multiplier=request.backoff_seconds, max=request.backoff_seconds * 32,
                                     jitter=request.backoff_seconds),
        retry=retry_if_exception(lambda error: isinstance(error, LMError) and error.retryable),
        before_sleep=lambda _state: record(request.model, Usage(retries=1)),
        reraise=True,
    )
    try:
        completion = retrying(_attempt, request)
    except LMError:
        record(request.model, Usage(failures=1))
        raise
    return dataclasses.replace(completion, attempts=retrying.statistics["attempt_number"])


def _attempt(request: LMRequest) -> Completion:
    """One provider call, charged to every active budget and recorded in usage whether it succeeds or not."""
    estimate = _estimate_tokens(request)
    charged = budget.reserve_all(estimate)
    started = time.perf_counter()
    completion: Completion | None = None
    try:
        completion = transport_for(request.model)(request.model, request.messages, request.params)
        return dataclasses.replace(completion, latency_seconds=time.perf_counter() - started)
    finally:
        used = 0 if completion is None else completion.prompt_tokens + completion.completion_tokens
        for spent in charged:
            spent.settle(estimate, used)
        record(request.model, Usage(
            calls=1,
            prompt_tokens=0 if completion is None else completion.prompt_tokens,
            completion_tokens=0 if completion is None else completion.completion_tokens,
            cost=(completion.cost or 0.0) if completion is not None else 0.0,
            latency_seconds=time.perf_counter() - started,
        ))


def _estimate_tokens(request: LMRequest) -> int:
    prompt_chars = sum(len(str(message.get("content", ""))) for message in request.messages)
    return prompt_chars // _CHARS_PER_TOKEN_ESTIMATE + int(request.params.get("max_tokens") or 0)
