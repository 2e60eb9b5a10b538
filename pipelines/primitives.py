"""`Example` and `Prediction`: dict-like records that flow through programs, evaluation and optimizers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from pipelines.fieldtypes import to_jsonable
from pipelines.lm.usage import Usage


class Record(Mapping[str, Any]):
    """Fields readable as `record["name"]` and `record.name`; immutable once built."""

    def __init__(self, fields: Mapping[str, Any] | None = None, **more: Any):
        object.__setattr__(self, "_fields", {**(fields or {}), **more})

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}; it has {list(self._fields)}") \
                from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one instead")

    def to_dict(self) -> dict[str, Any]:
        return dict(self._fields)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._fields.items())
        return f"{type(self).__name__}({shown})"


class Example(Record):
    """A training or evaluation record. `with_inputs` marks which fields a program takes; the rest are
    labels. An `id` field, when present, names the example in stored evaluations."""

    def __init__(self, fields: Mapping[str, Any] | None = None, *, input_keys: tuple[str, ...] = (),
                 **more: Any):
        super().__init__(fields, **more)
        object.__setattr__(self, "_input_keys", tuple(input_keys))

    def with_inputs(self, *names: str) -> Example:
        missing = [name for name in names if name not in self]
        if missing:
            raise KeyError(f"cannot mark {missing} as inputs: the example has only {list(self)}")
        return Example(self._fields, input_keys=names)

    @property
    def input_keys(self) -> tuple[str, ...]:
        return self._input_keys

    def inputs(self) -> dict[str, Any]:
        if not self._input_keys:
            raise ValueError("this example has no inputs marked: call .with_inputs(...) first")
        return {name: self[name] for name in self._input_keys}

    def labels(self) -> dict[str, Any]:
        return {name: value for name, value in self.items() if name not in self._input_keys and name != "id"}

    @property
    def example_id(self) -> str:
        """The `id` field, else a hash of the inputs: stable across runs, so predictions can be matched."""
        if "id" in self:
            return str(self["id"])
        payload = json.dumps(to_jsonable(self.inputs()), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


class Prediction(Record):
    """A program's outputs, with what producing them cost and whether the answer came from the cache."""

    def __init__(self, fields: Mapping[str, Any] | None = None, *, usage: Usage | None = None,
                 cached: bool = False, **more: Any):
        super().__init__(fields, **more)
        object.__setattr__(self, "usage", usage or Usage())
        object.__setattr__(self, "cached", cached)
