"""The DataFrame-to-keywords side of the served model: what a request must hold, checked by pydantic models
before any LM call.

Problems are `RequestError`s naming the field; the model turns them into HTTP 400."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal

import pandas as pd
import pydantic
from pydantic_core import PydanticCustomError

MAX_TEXT_CHARS = 4000
"""Longest accepted input text: the embedded model's context is 8,192 tokens, prompt and demos included."""
MAX_ROWS = 256
ERROR_COLUMN = "error"
"""The answer column that says why a row has no answer (empty when it has one)."""
MAX_GROUPS = 100


class RequestError(ValueError):
    """A request the model cannot answer as sent."""


def _bounded(kind: type, low: float, high: float) -> pydantic.BeforeValidator:
    """A number of `kind` in [low, high]; a bool, a text or a non-finite number is refused by name."""
    def check(value: Any) -> int | float:
        if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
                or (kind is int and value != int(value))):
            raise PydanticCustomError("number", "must be {what}, got {value}",
                                      {"what": "a whole number" if kind is int else "a number", "value": repr(value)})
        if not low <= value <= high:
            raise PydanticCustomError("range", "must be between {low} and {high}, got {value}",
                                      {"low": low, "high": high, "value": value})
        return kind(value)

    return pydantic.BeforeValidator(check)


def _group_names(value: Any) -> tuple[str, ...]:
    """A list of group names (a bare name is refused: it would read as a list of letters)."""
    if value is None:
        return ()
    if hasattr(value, "tolist"):  # MLflow may hand an array param over as a NumPy array
        value = value.tolist()
    if isinstance(value, str) or not isinstance(value, list | tuple) or \
            not all(isinstance(name, str) and name.strip() for name in value):
        raise PydanticCustomError("groups", "must be a list of group names, got {value}", {"value": repr(value)[:200]})
    if len(value) > MAX_GROUPS:
        raise PydanticCustomError("groups", "names {count} groups; at most {limit} are taken",
                                  {"count": len(value), "limit": MAX_GROUPS})
    return tuple(value)


class Params(pydantic.BaseModel):
    """Per-request settings, from the `params` of a request (or their defaults)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    k: Annotated[int, _bounded(int, 1, 20)] = 3
    max_tokens: Annotated[int, _bounded(int, 1, 4096)] = 1000
    temperature: Annotated[float, _bounded(float, 0.0, 2.0)] = 0.0
    groups: Annotated[tuple[str, ...], pydantic.BeforeValidator(_group_names)] = ()
    """The caller's user groups: retrieval sees the passages without groups and those of these groups."""
    failures: Literal["request", "row"] = "request"
    """What a row that cannot be answered (a bad input, a failing LM) does: fail the whole request, as a served
    call should, or only itself, its reason in the row's `error`, as a batch job needs."""

    @classmethod
    def read(cls, given: Mapping[str, Any] | None, *, default_k: int) -> Params:
        try:
            return cls.model_validate({"k": default_k, **(given or {})})
        except pydantic.ValidationError as error:
            unknown = sorted(str(e["loc"][0]) for e in error.errors() if e["type"] == "extra_forbidden")
            if unknown:
                raise RequestError(f"unknown param(s) {unknown}; known: {', '.join(cls.model_fields)}") from None
            first = error.errors()[0]
            raise RequestError(f"param {first['loc'][0]!r} {first['msg']}") from None

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Each param's default, as the model signature declares it."""
        return {name: field.default for name, field in cls.model_fields.items()}


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("text", "must be text, got {kind}: {value}",
                                  {"kind": type(value).__name__, "value": repr(value)[:200]})
    if not value.strip():
        raise PydanticCustomError("empty", "is empty")
    if len(value) > MAX_TEXT_CHARS:
        raise PydanticCustomError("long", "has {length} characters; the limit is {limit}",
                                  {"length": len(value), "limit": MAX_TEXT_CHARS})
    return value


InputText = Annotated[str, pydantic.BeforeValidator(_text)]


@cache
def _row_model(fields: tuple[str, ...]) -> type[pydantic.BaseModel]:
    """One request row: every input field a non-empty text of at most `MAX_TEXT_CHARS`. The model's own
    attribute names are neutral and each input is its alias, so any field name (`model_config`, `_x`) works."""
    return pydantic.create_model("RequestRow", **{f"input_{index}": (InputText, pydantic.Field(alias=field))
                                                  for index, field in enumerate(fields)})


def rows(model_input: Any, fields: list[str], *, per_row: bool = False) -> list[dict[str, str] | RequestError]:
    """One keyword dict per row, each field checked by the row model; with `per_row`, a bad row is its
    `RequestError` in the list instead of failing the request."""
    frame = _frame(model_input)
    missing = [field for field in fields if field not in frame.columns]
    if missing:
        raise RequestError(f"missing input column(s) {missing}; the model takes {fields}, got {list(frame.columns)}")
    if frame.empty:
        raise RequestError("the request has no rows")
    if len(frame) > MAX_ROWS:
        raise RequestError(f"the request has {len(frame)} rows; at most {MAX_ROWS} are answered at once")
    model = _row_model(tuple(fields))
    columns = [frame[field].tolist() for field in fields]  # plain lists: no DataFrame copy per request
    checked = []
    for index, values in enumerate(zip(*columns, strict=True)):
        try:
            checked.append(model.model_validate(dict(zip(fields, values, strict=True))).model_dump(by_alias=True))
        except pydantic.ValidationError as error:
            first = error.errors()[0]
            problem = RequestError(f"field {first['loc'][0]!r} of row {index} {first['msg']}")
            if not per_row:
                raise problem from None
            checked.append(problem)
    return checked


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
