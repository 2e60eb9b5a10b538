"""The DataFrame-to-keywords side of the served model: what a request must hold, checked before any LM call.

Problems are `RequestError`s naming the field; the model turns them into HTTP 400."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

MAX_TEXT_CHARS = 4000
"""Longest accepted input text: the embedded model's context is 2,048 tokens, prompt and demos included."""
MAX_ROWS = 256


class RequestError(ValueError):
    """A request the model cannot answer as sent."""


@dataclass(frozen=True)
class Params:
    """Per-request settings, from the `params` of a request (or their defaults)."""

    k: int = 3
    max_tokens: int = 1000
    temperature: float = 0.0

    @classmethod
    def read(cls, given: Mapping[str, Any] | None, *, default_k: int) -> Params:
        given = dict(given or {})
        unknown = sorted(set(given) - {"k", "max_tokens", "temperature"})
        if unknown:
            raise RequestError(f"unknown param(s) {unknown}; known: k, max_tokens, temperature")
        k = _number(given.get("k", default_k), "k", int, 1, 20)
        max_tokens = _number(given.get("max_tokens", cls.max_tokens), "max_tokens", int, 1, 4096)
        temperature = _number(given.get("temperature", cls.temperature), "temperature", float, 0.0, 2.0)
        return cls(int(k), int(max_tokens), float(temperature))


def rows(model_input: Any, fields: list[str]) -> list[dict[str, str]]:
    """One keyword dict per row, each field a non-empty text of at most `MAX_TEXT_CHARS`."""
    frame = _frame(model_input)
    missing = [field for field in fields if field not in frame.columns]
    if missing:
        raise RequestError(f"missing input column(s) {missing}; the model takes {fields}, got {list(frame.columns)}")
    if frame.empty:
        raise RequestError("the request has no rows")
    if len(frame) > MAX_ROWS:
        raise RequestError(f"the request has {len(frame)} rows; at most {MAX_ROWS} are answered at once")
    return [{field: _text(row[field], field, index) for field in fields}
            for index, row in enumerate(frame.to_dict("records"))]


def _frame(model_input: Any) -> pd.DataFrame:
    if isinstance(model_input, pd.DataFrame):
        return model_input
    if isinstance(model_input, dict):
        columns = {key: value if isinstance(value, list) else [value] for key, value in model_input.items()}
        lengths = {key: len(value) for key, value in columns.items()}
        if len(set(lengths.values())) > 1:
            raise RequestError(f"the input columns differ in length: {lengths}")
        return pd.DataFrame(columns)
    if isinstance(model_input, list) and all(isinstance(item, dict) for item in model_input):
        return pd.DataFrame(model_input)
    raise RequestError("expected a table of inputs (a DataFrame, records or columns), "
                       f"got {type(model_input).__name__}")


def _text(value: Any, field: str, index: int) -> str:
    if not isinstance(value, str):
        raise RequestError(f"field {field!r} of row {index} must be text, got {type(value).__name__}: {value!r}"[:300])
    if not value.strip():
        raise RequestError(f"field {field!r} of row {index} is empty")
    if len(value) > MAX_TEXT_CHARS:
        raise RequestError(f"field {field!r} of row {index} has {len(value)} characters; the limit is {MAX_TEXT_CHARS}")
    return value


def _number(value: Any, name: str, kind: type, low: float, high: float) -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or (kind is int and value != int(value))):
        raise RequestError(f"param {name!r} must be {'a whole number' if kind is int else 'a number'}, got {value!r}")
    if not low <= value <= high:
        raise RequestError(f"param {name!r} must be between {low} and {high}, got {value}")
    return value
