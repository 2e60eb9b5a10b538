"""MLflow spans for LM calls and retrievals, opened only inside a trace the caller started (never a trace
per call). MLflow is never imported here: with no trace running, it is not even loaded."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pipelines.lm.params import public_params
from pipelines.lm.types import Completion, LMRequest


@contextmanager
def span(name: str, span_type: str, inputs: Any) -> Iterator[Any]:
    """A child span of the active MLflow trace, or None when no trace is active."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None or mlflow.get_current_active_span() is None:
        yield None
        return
    with mlflow.start_span(name=name, span_type=span_type) as opened:
        opened.set_inputs(inputs)
        yield opened


def lm_span(request: LMRequest):
    return span(f"LM {request.model}", "CHAT_MODEL",
                {"messages": request.messages, "params": public_params(request.params)})


def end_span(opened: Any, completion: Completion) -> None:
    if opened is None:
        return
    opened.set_outputs(completion.text)
    opened.set_attributes({
        "cached": completion.cached,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "attempts": completion.attempts,
    })
