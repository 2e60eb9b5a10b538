"""A program as files a served model rebuilds it from: its class, its state, its LM settings (never a key)
and the vector store of each `Retrieve` inside. JSON and FAISS files only: loading runs no pickled code."""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.lm.client import LM
from pipelines.modules import Module, Retrieve
from pipelines.retrieval.store import VectorStore
from pipelines.state import StateError, apply_state, program_state
from pipelines.versioned import FileFormat

BUNDLE = FileFormat("sigflow.served_program", 1, "a sigflow served program")
PROGRAM_FILE = "program.json"
STORE_ARTIFACT = "store"


class BundleError(ValueError):
    """A program that cannot be packaged, or package files that do not rebuild it."""


@dataclass(frozen=True)
class Bundle:
    """What the served model needs besides the code: written by `write_bundle`, read by `read_bundle`."""

    program_class: str
    state: dict[str, Any]
    lm: dict[str, Any]
    input_fields: list[str]
    retrievers: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {**BUNDLE.header(), "program_class": self.program_class, "state": self.state, "lm": self.lm,
                "input_fields": self.input_fields, "retrievers": self.retrievers}


def input_fields(program: Module) -> list[str]:
    """The inputs a request must carry: `forward`'s parameters without a default."""
    parameters = inspect.signature(program.forward).parameters.values()
    return [p.name for p in parameters if p.default is inspect.Parameter.empty
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def write_bundle(program: Module, lm: LM, directory: Path) -> dict[str, str]:
    """Write the bundle under `directory`; returns the MLflow artifacts (name to path) to log."""
    reference = _class_reference(program)
    retrievers = program.named_modules(Retrieve)
    missing = [name for name, retrieve in retrievers if retrieve.store is None]
    if missing:
        raise BundleError(f"Retrieve module(s) {missing} have no vector store to package")
    if len(retrievers) > 1:
        raise BundleError(f"programs with one Retrieve are packaged; {type(program).__name__} has {len(retrievers)}")
    bundle = Bundle(reference, program_state(program), lm.settings(), input_fields(program),
                    [name for name, _ in retrievers])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / PROGRAM_FILE).write_text(json.dumps(bundle.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    artifacts = {"program": str(directory / PROGRAM_FILE)}
    for _, retrieve in retrievers:
        artifacts[STORE_ARTIFACT] = str(retrieve.store.save(directory / STORE_ARTIFACT))
    return artifacts


def read_bundle(artifacts: dict[str, str], *, root: Path) -> tuple[Module, LM, Bundle]:
    """The program (state applied, stores attached) and LM a bundle describes. Every artifact, and every
    file under one, must resolve inside `root` (the model's directory): an edited MLmodel or a symbolic
    link does not make the model read files from elsewhere."""
    _check_inside(artifacts, root)
    path = Path(artifacts["program"])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"cannot read {path}: {error}") from error
    BUNDLE.check(data, str(path), BundleError)
    bundle = Bundle(**{key: data[key] for key in Bundle.__dataclass_fields__})
    program = _import_class(bundle.program_class)()
    try:
        apply_state(program, bundle.state, source=str(path))
    except StateError as error:
        raise BundleError(str(error)) from error
    for name, retrieve in program.named_modules(Retrieve):
        if name in bundle.retrievers:
            retrieve.store = VectorStore.load(artifacts[STORE_ARTIFACT])
    return program, LM(**bundle.lm), bundle


def _check_inside(artifacts: dict[str, str], root: Path) -> None:
    root = root.resolve()
    for name, given in artifacts.items():
        top = Path(given)
        for path in (top, *(top.rglob("*") if top.is_dir() else ())):
            if not path.resolve().is_relative_to(root):
                raise BundleError(f"artifact {name!r} reaches outside the model directory {root}: {path} is "
                                  f"{path.resolve()}")


def _class_reference(program: Module) -> str:
    """`module:QualName` of the program's class, checked to import and to build without arguments."""
    cls = type(program)
    reference = f"{cls.__module__}:{cls.__qualname__}"
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        raise BundleError(f"{cls.__qualname__} must be defined in an importable module to be served, "
                          f"not in {cls.__module__}")
    try:
        _import_class(reference)()
    except TypeError as error:
        raise BundleError(f"{reference} must be constructible without arguments to be served: {error}") from error
    return reference


def _import_class(reference: str) -> type[Module]:
    module_name, _, qualname = reference.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise BundleError(f"cannot import the program class {reference}: {error}") from error
    if not (isinstance(found, type) and issubclass(found, Module)):
        raise BundleError(f"{reference} is not a sigflow Module")
    return found
