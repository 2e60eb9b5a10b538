"""Program state as versioned JSON, keyed by predictor name: instructions, field descriptions, demos (and the
pool of demos chosen per call), omitted outputs and LM settings (never secrets). No pickle: loading reads
data, never code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.demo_pool import DemoPool
from pipelines.fieldtypes import from_jsonable, to_jsonable
from pipelines.lm.client import LM
from pipelines.primitives import Example
from pipelines.signatures import Signature
from pipelines.versioned import FileFormat

if TYPE_CHECKING:  # state reads programs through their predictors' attributes; modules import this file
    from pipelines.modules.module import Module, Predictor

# Version 2 adds each predictor's `demo_pool` and `omitted` outputs (null and none in version 1); version 3 the
# pool's `similarity` (semantic in version 2).
PROGRAM_STATE = FileFormat("sigflow.program", 3, "sigflow program state")


class StateError(ValueError):
    """Saved state that does not fit the program, or a file that is not program state."""


def program_state(program: Module) -> dict[str, Any]:
    return {
        **PROGRAM_STATE.header(),
        "program": type(program).__name__,
        "predictors": {name: _predictor_state(predictor) for name, predictor in program.named_predictors()},
    }


def _predictor_state(predictor: Predictor) -> dict[str, Any]:
    signature = predictor.signature
    return {
        "instructions": signature.instructions,
        "fields": [{"name": f.name, "kind": f.kind, "type": f.type_name, "desc": f.desc} for f in signature.fields],
        "demos": demos_to_jsonable(predictor.demos),
        "demo_pool": _pool_state(predictor.demo_pool),
        "omitted": list(predictor.omitted),
        "lm": predictor.lm.settings() if predictor.lm is not None else None,
    }


def _pool_state(pool: DemoPool | None) -> dict[str, Any] | None:
    if pool is None:
        return None
    return {"k": pool.k, "keys": list(pool.keys), "similarity": pool.similarity,
            "demos": demos_to_jsonable(pool.demos)}


def demos_to_jsonable(demos: list[Example]) -> list[dict[str, Any]]:
    return [to_jsonable(dict(demo)) for demo in demos]


def demos_from_jsonable(signature: Signature, saved: list[dict[str, Any]]) -> list[Example]:
    """Demos as `demos_to_jsonable` wrote them, typed by `signature`, with its input fields marked."""
    annotations = {field.name: field.annotation for field in signature.fields}
    return [Example({key: from_jsonable(annotations[key], value) if key in annotations else value
                     for key, value in demo.items()},
                    input_keys=tuple(field for field in signature.input_fields if field in demo))
            for demo in saved]


def save_program(program: Module, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(program_state(program), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_program(program: Module, path: Path) -> Module:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StateError(f"cannot read program state from {path}: {error}") from error
    apply_state(program, state, source=str(path))
    return program


def apply_state(program: Module, state: Any, source: str = "state") -> None:
    """Check every predictor and field first, report every mismatch at once, then apply."""
    _check_header(state, source)
    predictors = dict(program.named_predictors())
    saved = state["predictors"]
    problems = [f"predictor {name!r} is in {source} but not in the program" for name in saved if name not in predictors]
    problems += [f"predictor {name!r} of the program is missing from {source}" for name in predictors
                 if name not in saved]
    for name in saved.keys() & predictors.keys():
        problems += _field_mismatches(name, predictors[name], saved[name])
    if problems:
        raise StateError(f"{source} does not fit {type(program).__name__}:\n- " + "\n- ".join(problems))
    prepared = {name: _prepare(name, predictor, saved[name], source) for name, predictor in predictors.items()}
    for name, predictor in predictors.items():  # only once every predictor's state could be built
        predictor.signature, predictor.demos, predictor.demo_pool, predictor.omitted, predictor.lm = prepared[name]


def _check_header(state: Any, source: str) -> None:
    PROGRAM_STATE.check(state, source, StateError)
    if not isinstance(state.get("predictors"), dict):
        raise StateError(f"{source} has no \"predictors\" object")


def _field_mismatches(name: str, predictor: Predictor, saved: Any) -> list[str]:
    if not isinstance(saved, dict):
        return [f"predictor {name!r}: expected an object, found {type(saved).__name__}"]
    problems = [f"predictor {name!r}: {key} {problem}" for key, ok, problem in (
        ("instructions", isinstance(saved.get("instructions"), str), "must be a string"),
        ("demos", isinstance(saved.get("demos"), list) and all(isinstance(d, dict) for d in saved["demos"]),
         "must be a list of objects"),
        ("demo_pool", saved.get("demo_pool") is None or isinstance(saved.get("demo_pool"), dict),
         "must be an object or null"),
        ("omitted", omittable(predictor, saved.get("omitted", [])),
         "must list text outputs of the predictor, not all of its outputs"),
        ("lm", saved.get("lm") is None or isinstance(saved.get("lm"), dict), "must be an object or null"),
    ) if not ok]
    return problems + _signature_mismatches(name, predictor, saved)


def omittable(predictor: Predictor, names: Any) -> bool:
    """Whether `names` are text outputs this predictor may leave out (one output at least is still asked)."""
    outputs = predictor.signature.output_fields
    return (isinstance(names, list | tuple) and all(isinstance(name, str) for name in names)
            and all(name in outputs and outputs[name].annotation is str for name in names)
            and len(set(names)) < len(outputs))


def _signature_mismatches(name: str, predictor: Predictor, saved: dict[str, Any]) -> list[str]:
    expected = [(f.name, f.kind, f.type_name) for f in predictor.signature.fields]
    try:
        found = [(f["name"], f["kind"], f["type"]) for f in saved["fields"]]
    except (KeyError, TypeError):
        return [f"predictor {name!r}: its fields are malformed"]
    if expected == found:
        return []
    return [f"predictor {name!r}: fields are {_describe(found)} in the saved state, {_describe(expected)} "
            f"in the program"]


def _describe(fields: list[tuple[str, str, str]]) -> str:
    return ", ".join(f"{kind} {field_name}: {type_name}" for field_name, kind, type_name in fields)


def _prepare(name: str, predictor: Predictor, saved: dict[str, Any], source: str
             ) -> tuple[Signature, list[Example], DemoPool | None, tuple[str, ...], LM | None]:
    """The signature, demos, pool, omitted outputs and LM that `saved` gives this predictor, or a StateError
    naming the problem."""
    try:
        signature = predictor.signature.with_instructions(saved["instructions"]).with_field_descriptions(
            {f["name"]: str(f["desc"]) for f in saved["fields"]})
        demos = demos_from_jsonable(signature, saved["demos"])
        pool = saved.get("demo_pool")
        demo_pool = (DemoPool(demos_from_jsonable(signature, pool["demos"]), k=pool["k"], keys=pool["keys"],
                              similarity=pool.get("similarity", "semantic")) if pool else None)
        lm = LM(**saved["lm"]) if saved.get("lm") else None
    except (KeyError, TypeError, ValueError) as error:
        raise StateError(f"{source}: predictor {name!r} cannot be loaded: {error}") from error
    return signature, demos, demo_pool, tuple(saved.get("omitted", ())), lm


def fingerprint(program: Module) -> str:
    """A short hash of everything that shapes the program's prompts: equal fingerprints, equal behavior."""
    canonical = json.dumps(program_state(program), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
