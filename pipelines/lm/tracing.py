"""MLflow spans for LM calls, opened only inside a trace the caller started (never a trace per call)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipelines.lm.params import public_params
from pipelines.lm.types import Completion, LMRequest


@contextmanager
def lm_span(request: LMRequest) -> Iterator[Any]:
    """A span around one LM call when an MLflow trace is active, else nothing; MLflow is never imported."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None or mlflow.get_current_active_span() is None:
        yield None
        return
    with mlflow.start_span(name=f"LM {request.model}", span_type="CHAT_MODEL") as span:
        span.set_inputs({"messages": request.messages, "params": public_params(request.params)})
        yield span


def end_span(span: Any, completion: Completion) -> None:
    if span is None:
        return
    span.set_outputs(completion.text)
    span.set_attributes({
        "cached": completion.cached,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "attempts": completion.attempts,
    })
