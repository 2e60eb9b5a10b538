"""A program's construction as JSON: its class and the arguments it was built with, recursively. JSON values
stay as they are; a module, a class or function, a vector store and an LM become tagged objects
(`{"$module": ...}`, `{"$object": "module:Name"}`, `{"$store": "store-0"}`, `{"$lm": {...}}`), so the served
model calls the same constructors with the same arguments instead of unpickling an object."""

from __future__ import annotations

import importlib
import inspect
import types
from dataclasses import dataclass, field
from typing import Any

from pipelines.lm.client import LM
from pipelines.modules import Module
from pipelines.retrieval.filters import groups_hash
from pipelines.retrieval.store import VectorStore
from serving.capture import CAPTURED_PREFIX, reference

TAGS = ("$module", "$object", "$store", "$lm", "$tuple")


class ArgumentError(ValueError):
    """An argument that cannot be written as JSON, or a construction that does not rebuild."""


@dataclass
class Packing:
    """What encoding found: the classes and functions the construction names (their code must travel) and
    the vector stores (each packaged once, by content)."""

    captured_module: str = CAPTURED_PREFIX
    """The module that `__main__` classes and functions are referenced in."""
    objects: list[Any] = field(default_factory=list)
    stores: dict[str, VectorStore] = field(default_factory=dict)

    def store_name(self, store: VectorStore) -> str:
        for name, packed in self.stores.items():
            if packed is store or _content(packed) == _content(store):
                return name
        name = f"store-{len(self.stores)}"
        self.stores[name] = store
        return name

    def construction(self, module: Module, where: str) -> dict[str, Any]:
        args, kwargs = module.constructor_arguments()
        self.objects.append(type(module))
        names = _parameter_names(type(module))
        return {"$module": reference(type(module), self.captured_module),
                "args": [self.encode(value, f"{where} argument {names[index] if index < len(names) else index!r}")
                         for index, value in enumerate(args)],
                "kwargs": {name: self.encode(value, f"{where} argument {name!r}") for name, value in kwargs.items()}}

    def encode(self, value: Any, where: str) -> Any:
        if value is None or type(value) in (bool, int, float, str):  # exactly: an Enum member would lose its type
            return value
        if isinstance(value, list):
            return [self.encode(item, f"{where}[{index}]") for index, item in enumerate(value)]
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(item, f"{where}[{index}]") for index, item in enumerate(value)]}
        if isinstance(value, dict):
            return {_key(key, where): self.encode(item, f"{where}[{key!r}]") for key, item in value.items()}
        if isinstance(value, Module):
            return self.construction(value, f"{where} ({type(value).__name__})")
        if isinstance(value, VectorStore):
            return {"$store": self.store_name(value)}
        if isinstance(value, LM):
            return {"$lm": value.settings()}
        if isinstance(value, type | types.FunctionType):
            self.objects.append(value)
            return {"$object": reference(value, self.captured_module)}
        raise ArgumentError(f"{where} is a {type(value).__name__}, which a served model cannot rebuild: pass JSON "
                            "values, modules, vector stores, LMs, classes or functions to the constructor")


def _parameter_names(cls: type) -> list[str]:
    """The constructor's parameter names, to say which argument a problem is in."""
    try:
        return list(inspect.signature(cls.__init__).parameters)[1:]
    except (TypeError, ValueError):
        return []


def _content(store: VectorStore) -> tuple[str, str, str, str]:
    """What makes two stores one artifact: the same passages, embedder and who may see each passage."""
    return store.corpus_hash, groups_hash(store.passages), store.embedder.name, store.embedder.runtime


def _key(key: Any, where: str) -> str:
    if not isinstance(key, str) or key in TAGS:
        raise ArgumentError(f"{where} has the key {key!r}: dictionary keys must be text, and not one of {TAGS}")
    return key


def rebuild(encoded: Any, stores: dict[str, VectorStore]) -> Any:
    """The value `Packing.encode` wrote, with its modules constructed again and its stores attached."""
    if isinstance(encoded, list):
        return [rebuild(item, stores) for item in encoded]
    if not isinstance(encoded, dict):
        return encoded
    if "$module" in encoded:
        cls = import_reference(encoded["$module"])
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise ArgumentError(f"{encoded['$module']} is not a sigflow Module")
        return cls(*rebuild(encoded.get("args", []), stores), **rebuild(encoded.get("kwargs", {}), stores))
    if "$object" in encoded:
        return import_reference(encoded["$object"])
    if "$store" in encoded:
        if encoded["$store"] not in stores:
            raise ArgumentError(f"the model has no vector store {encoded['$store']!r}")
        return stores[encoded["$store"]]
    if "$lm" in encoded:
        return LM(**encoded["$lm"])
    if "$tuple" in encoded:
        return tuple(rebuild(encoded["$tuple"], stores))
    return {key: rebuild(value, stores) for key, value in encoded.items()}


def import_reference(name: str) -> Any:
    """The object a `module:QualName` reference names, or an ArgumentError that says which part is missing."""
    module_name, _, qualname = name.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise ArgumentError(f"the model's code cannot import {module_name!r} (for {name}): {error}") from error
    for part in qualname.split("."):
        if not hasattr(found, part):
            raise ArgumentError(f"module {module_name!r} has no {qualname!r} (for {name})")
        found = getattr(found, part)
    return found
