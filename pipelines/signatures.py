"""Signatures: what one LM step takes and returns, declared as a string or as a class.

    Signature("context: list[str], question -> answer")

    class Classify(Signature):
        \"\"\"Classify the question by the kind of answer it expects.\"\"\"
        question: str = InputField()
        label: Literal["human", "location"] = OutputField(desc="the answer type")

A class that derives from `Signature` becomes a `Signature` value, not a class. Signatures are immutable:
`with_instructions`, `prepend`, `append`, `delete` and `with_field_descriptions` return new ones.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import sys
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from pipelines import fieldtypes


class SignatureError(ValueError):
    """A signature that cannot be built; the message names the problem."""


@dataclass(frozen=True)
class Field:
    name: str
    annotation: Any = str
    desc: str = ""
    is_input: bool = True

    @property
    def kind(self) -> str:
        return "input" if self.is_input else "output"

    @property
    def type_name(self) -> str:
        return fieldtypes.type_name(self.annotation)


@dataclass(frozen=True)
class _FieldMarker:
    """What `InputField()` and `OutputField()` put on a class-form signature's attributes."""

    is_input: bool
    desc: str = ""


def InputField(desc: str = "") -> Any:
    return _FieldMarker(is_input=True, desc=desc)


def OutputField(desc: str = "") -> Any:
    return _FieldMarker(is_input=False, desc=desc)


_TYPE_NAMES: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool, "list": list,
                               "dict": dict, "Any": Any, "Literal": Literal}


class _SignatureMeta(type):
    def __new__(mcls, name, bases, namespace, **kwargs):
        cls = super().__new__(mcls, name, bases, namespace, **kwargs)
        if any(isinstance(base, _SignatureMeta) for base in bases):
            return Signature._from_class(cls)
        return cls


class Signature(metaclass=_SignatureMeta):
    """Input and output fields plus the instructions that tell the LM what to do with them."""

    def __init__(self, spec: str | Iterable[Field], instructions: str | None = None, *,
                 types: Mapping[str, Any] | None = None, name: str = ""):
        fields = _parse(spec, dict(types or {})) if isinstance(spec, str) else tuple(spec)
        _validate(fields)
        self.fields: tuple[Field, ...] = fields
        self.name = name
        self.instructions = instructions if instructions is not None else _default_instructions(fields)

    @classmethod
    def _from_class(cls, declared: type) -> Signature:
        own = inspect.get_annotations(declared)
        module = sys.modules.get(declared.__module__)
        try:
            hints = typing.get_type_hints(declared, globalns=vars(module) if module else None)
        except NameError as error:
            raise SignatureError(f"signature {declared.__name__}: {error}") from error
        fields = []
        for field_name in own:
            marker = declared.__dict__.get(field_name)
            if not isinstance(marker, _FieldMarker):
                raise SignatureError(f"signature {declared.__name__}: field {field_name!r} needs "
                                     f"InputField() or OutputField() as its value")
            fields.append(Field(field_name, hints[field_name], marker.desc, marker.is_input))
        doc = inspect.cleandoc(declared.__doc__) if declared.__doc__ else None
        return cls(fields, doc, name=declared.__name__)

    @property
    def input_fields(self) -> dict[str, Field]:
        return {field.name: field for field in self.fields if field.is_input}

    @property
    def output_fields(self) -> dict[str, Field]:
        return {field.name: field for field in self.fields if not field.is_input}

    @property
    def spec(self) -> str:
        """The string form, types included: `question: str -> answer: str`."""
        def side(fields: dict[str, Field]) -> str:
            return ", ".join(f"{field.name}: {field.type_name}" for field in fields.values())
        return f"{side(self.input_fields)} -> {side(self.output_fields)}"

    def with_instructions(self, instructions: str) -> Signature:
        return Signature(self.fields, instructions, name=self.name)

    def prepend(self, name: str, marker: Any, annotation: Any = str) -> Signature:
        """A new field first among the inputs or outputs (as `marker` says)."""
        return self._insert(name, marker, annotation, first=True)

    def append(self, name: str, marker: Any, annotation: Any = str) -> Signature:
        """A new field last among the inputs or outputs (as `marker` says)."""
        return self._insert(name, marker, annotation, first=False)

    def delete(self, *names: str) -> Signature:
        """The signature without the named fields (each must be one of its fields)."""
        for name in names:
            self._field(name)
        return Signature([field for field in self.fields if field.name not in names], self.instructions,
                         name=self.name)

    def with_field_descriptions(self, descriptions: Mapping[str, str]) -> Signature:
        for name in descriptions:
            self._field(name)
        return Signature([replace(field, desc=descriptions.get(field.name, field.desc)) for field in self.fields],
                         self.instructions, name=self.name)

    def _insert(self, name: str, marker: Any, annotation: Any, first: bool) -> Signature:
        if not isinstance(marker, _FieldMarker):
            raise SignatureError(f"field {name!r}: pass InputField() or OutputField(), got {marker!r}")
        new = Field(name, annotation, marker.desc, marker.is_input)
        same_kind = [field for field in self.fields if field.is_input == new.is_input]
        others = [field for field in self.fields if field.is_input != new.is_input]
        same_kind = [new, *same_kind] if first else [*same_kind, new]
        ordered = [*same_kind, *others] if new.is_input else [*others, *same_kind]
        return Signature(ordered, self.instructions, name=self.name)

    def _field(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise SignatureError(f"signature {self.spec!r} has no field {name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Signature) and (self.fields, self.instructions) == (
            other.fields, other.instructions)

    def __hash__(self) -> int:
        return hash((self.fields, self.instructions))

    def __repr__(self) -> str:
        return f"Signature({self.spec!r}, instructions={self.instructions!r})"


def ensure_signature(signature: str | Signature) -> Signature:
    if isinstance(signature, Signature):
        return signature
    if isinstance(signature, str):
        return Signature(signature)
    raise SignatureError(f"expected a signature string or Signature, got {type(signature).__name__}")


def _default_instructions(fields: tuple[Field, ...]) -> str:
    inputs = ", ".join(f"`{field.name}`" for field in fields if field.is_input)
    outputs = ", ".join(f"`{field.name}`" for field in fields if not field.is_input)
    return f"Given the fields {inputs}, produce the fields {outputs}."


def _parse(spec: str, types: dict[str, Any]) -> tuple[Field, ...]:
    if spec.count("->") != 1:
        raise SignatureError(f"a signature string has one '->' between inputs and outputs, got {spec!r}")
    left, right = spec.split("->")
    inputs = _parse_side(left, True, types, spec)
    outputs = _parse_side(right, False, types, spec)
    return (*inputs, *outputs)


def _parse_side(text: str, is_input: bool, types: dict[str, Any], spec: str) -> list[Field]:
    kind = "input" if is_input else "output"
    if not text.strip():
        raise SignatureError(f"signature {spec!r} has no {kind} fields")
    fields = []
    for part in _split_top_level(text):
        name, _, type_text = part.partition(":")
        name = name.strip()
        if not name.isidentifier() or keyword.iskeyword(name):
            raise SignatureError(f"signature {spec!r}: {name or part.strip()!r} is not a valid field name")
        annotation = _resolve_type(type_text.strip(), types, spec) if type_text.strip() else str
        fields.append(Field(name, annotation, "", is_input))
    return fields


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets (`Literal['a', 'b']` stays whole)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char in "[(") - (char in "])")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _resolve_type(text: str, types: dict[str, Any], spec: str) -> Any:
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as error:
        raise SignatureError(f"signature {spec!r}: cannot read the type {text!r}") from error
    return _type_of(tree, {**_TYPE_NAMES, **types}, text, spec)


def _type_of(node: ast.AST, names: dict[str, Any], text: str, spec: str) -> Any:
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise SignatureError(f"signature {spec!r}: unknown type {node.id!r}; use {fieldtypes.SUPPORTED}, "
                                 f"or pass your own types with Signature(..., types={{{node.id!r}: ...}})")
        return names[node.id]
    if isinstance(node, ast.Subscript):
        base = _type_of(node.value, names, text, spec)
        arguments = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if base is Literal:
            if not all(isinstance(argument, ast.Constant) for argument in arguments):
                raise SignatureError(f"signature {spec!r}: Literal takes constants, got {text!r}")
            return Literal[tuple(argument.value for argument in arguments)]
        if base is list and len(arguments) == 1:
            return list[_type_of(arguments[0], names, text, spec)]
        if base is dict and len(arguments) == 2:
            key, value = (_type_of(argument, names, text, spec) for argument in arguments)
            return dict[key, value]
    raise SignatureError(f"signature {spec!r}: unsupported type {text!r}; use {fieldtypes.SUPPORTED}")


def _validate(fields: tuple[Field, ...]) -> None:
    seen: set[str] = set()
    for field in fields:
        if field.name in seen:
            raise SignatureError(f"field {field.name!r} appears twice")
        seen.add(field.name)
        if not fieldtypes.is_supported(field.annotation):
            raise SignatureError(f"field {field.name!r} has type {field.type_name}, which sigflow cannot "
                                 f"show to an LM and read back; use {fieldtypes.SUPPORTED}")
    if not any(field.is_input for field in fields):
        raise SignatureError("a signature needs at least one input field")
    if all(field.is_input for field in fields):
        raise SignatureError("a signature needs at least one output field")
