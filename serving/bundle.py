"""A program as files a served model rebuilds it from: how it is constructed, its state, its LM settings
(never a key), the vector stores its `Retrieve` modules search, and the code it needs besides sigflow. JSON,
Python source and FAISS files only: loading runs no pickled code."""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipelines.lm.client import LM
from pipelines.modules import Module, Retrieve
from pipelines.retrieval.store import VectorStore
from pipelines.signatures import Signature
from pipelines.state import StateError, apply_state, program_state
from pipelines.versioned import FileFormat
from serving.arguments import ArgumentError, Packing, rebuild
from serving.capture import CAPTURED_PREFIX, CaptureError, ProgramCode, collect_code

BUNDLE = FileFormat("sigflow.served_program", 2, "a sigflow served program")
PROGRAM_FILE = "program.json"


class BundleError(ValueError):
    """A program that cannot be packaged, or package files that do not rebuild it."""


@dataclass(frozen=True)
class Bundle:
    """What the served model needs besides the code: written by `write_bundle`, read by `read_bundle`."""

    construction: dict[str, Any]
    state: dict[str, Any]
    lm: dict[str, Any]
    input_fields: list[str]
    retrievers: dict[str, dict[str, Any]]
    """Each `Retrieve` by attribute path: the store artifact it searches, its `k` and the store's version."""

    def to_dict(self) -> dict[str, Any]:
        return {**BUNDLE.header(), "construction": self.construction, "state": self.state, "lm": self.lm,
                "input_fields": self.input_fields, "retrievers": self.retrievers}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Bundle:
        if data["version"] == 1:  # one Retrieve, its store logged as `store`, a class built without arguments
            data = {**data, "construction": {"$module": data["program_class"]},
                    "retrievers": {name: {"store": "store"} for name in data["retrievers"]}}
        return cls(**{key: data[key] for key in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Packaged:
    """A bundle written to disk: the artifacts to log and the code that must travel with them."""

    artifacts: dict[str, str]
    code: ProgramCode


def input_fields(program: Module) -> list[str]:
    """The inputs a request must carry: `forward`'s parameters without a default, or, for a module whose
    `forward` takes any keywords, its signature's inputs (`Predict`, `ReAct`), its module's (`BestOfN`) or its
    first member's (`Ensemble`, whose members share their inputs)."""
    parameters = _forward_parameters(program)
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        signature = getattr(program, "signature", None)
        wrapped = getattr(program, "module", None) or next(iter(getattr(program, "members", ())), None)
        if isinstance(signature, Signature):
            return list(signature.input_fields)
        if isinstance(wrapped, Module):
            return input_fields(wrapped)
        raise BundleError(f"{type(program).__name__}.forward takes any keywords and names no signature: "
                          "declare its inputs as parameters of forward")
    return [p.name for p in parameters if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def takes_k(program: Module) -> bool:
    """Whether requests may set `k`: the program's `forward` has such a parameter."""
    return any(p.name == "k" for p in _forward_parameters(program))


def _forward_parameters(program: Module) -> list[inspect.Parameter]:
    return list(inspect.signature(program.forward).parameters.values())


def write_bundle(program: Module, lm: LM, directory: Path) -> Packaged:
    """Write the bundle and any captured source under `directory`."""
    try:
        found = Packing()  # the first pass finds the code to capture, whose content names its module
        found.construction(program, type(program).__name__)
        code = collect_code(found.objects)
        packing = Packing(code.captured_module or CAPTURED_PREFIX)
        construction = packing.construction(program, type(program).__name__)
        retrievers = _retrievers(program, packing)
    except (ArgumentError, CaptureError) as error:
        raise BundleError(f"{type(program).__name__} cannot be packaged: {error}") from error
    bundle = Bundle(construction, program_state(program), lm.settings(), input_fields(program), retrievers)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / PROGRAM_FILE).write_text(json.dumps(bundle.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    artifacts = {"program": str(directory / PROGRAM_FILE)}
    for name, store in packing.stores.items():
        artifacts[name] = str(store.save(directory / name))
    if code.captured_source is not None:
        captured = directory / "code" / f"{code.captured_module}.py"
        captured.parent.mkdir(exist_ok=True)
        captured.write_text(code.captured_source, encoding="utf-8")
        code = replace(code, code_paths=[*code.code_paths, captured])
    return Packaged(artifacts, code)


def _retrievers(program: Module, packing: Packing) -> dict[str, dict[str, Any]]:
    retrievers = program.named_modules(Retrieve)
    missing = [name for name, retrieve in retrievers if retrieve.store is None]
    if missing:
        raise BundleError(f"Retrieve module(s) {missing} have no vector store to package")
    return {name: {"store": packing.store_name(retrieve.store), "k": retrieve.k,
                   "store_version": retrieve.store.version} for name, retrieve in retrievers}


def store_versions(program: Module) -> dict[str, int]:
    """The version of the store each `Retrieve` searches, by its attribute path: what a published model
    names, so a store changed since can be told apart."""
    return {name: retrieve.store.version for name, retrieve in program.named_modules(Retrieve)
            if retrieve.store is not None}


def read_bundle(artifacts: dict[str, str], *, root: Path) -> tuple[Module, LM, Bundle]:
    """The program (rebuilt, state applied, stores attached) and LM a bundle describes. Every artifact, and
    every file under one, must resolve inside `root` (the model's directory): an edited MLmodel or a symbolic
    link does not make the model read files from elsewhere."""
    _check_inside(artifacts, root)
    path = Path(artifacts["program"])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"cannot read {path}: {error}") from error
    BUNDLE.check(data, str(path), BundleError)
    bundle = Bundle.from_dict(data)
    stores = _load_stores(bundle, artifacts)
    try:
        program = rebuild(bundle.construction, stores)
        apply_state(program, bundle.state, source=str(path))
    except (ArgumentError, StateError) as error:
        raise BundleError(str(error)) from error
    for name, retrieve in program.named_modules(Retrieve):
        if name in bundle.retrievers:
            retrieve.store = stores[bundle.retrievers[name]["store"]]
            retrieve.k = bundle.retrievers[name].get("k", retrieve.k)
    return program, LM(**bundle.lm), bundle


def _load_stores(bundle: Bundle, artifacts: dict[str, str]) -> dict[str, VectorStore]:
    names = {entry["store"] for entry in bundle.retrievers.values()} | _store_names(bundle.construction)
    missing = sorted(name for name in names if name not in artifacts)
    if missing:
        raise BundleError(f"the model lacks the vector store artifact(s) {missing}")
    return {name: VectorStore.load(artifacts[name]) for name in sorted(names)}


def _store_names(encoded: Any) -> set[str]:
    if isinstance(encoded, list):
        return set().union(*map(_store_names, encoded)) if encoded else set()
    if isinstance(encoded, dict):
        own = {encoded["$store"]} if "$store" in encoded else set()
        return own.union(*map(_store_names, encoded.values())) if encoded else own
    return set()


def _check_inside(artifacts: dict[str, str], root: Path) -> None:
    root = root.resolve()
    for name, given in artifacts.items():
        top = Path(given)
        for path in (top, *(top.rglob("*") if top.is_dir() else ())):
            if not path.resolve().is_relative_to(root):
                raise BundleError(f"artifact {name!r} reaches outside the model directory {root}: {path} is "
                                  f"{path.resolve()}")
