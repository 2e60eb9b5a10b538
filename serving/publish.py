"""An optimized program published: logged as a model in its optimization's run and registered as a new
version, tagged with how it scored."""

from __future__ import annotations

from typing import Any

from pipelines.lm.client import LM
from pipelines.modules import Module
from pipelines.tracking import mlflow_module
from serving.packaging import log_program_model
from serving.registry import VersionInfo, register


def publish(program: Module, *, lm: LM, run_id: str, name: str, scores: dict[str, Any]) -> VersionInfo:
    """Log `program` into run `run_id` and register it as a version of `name`, tagged with `scores`
    (dataset, metric, score, optimizer) and the program's fingerprint."""
    mlflow = mlflow_module()
    with mlflow.start_run(run_id=run_id):
        info = log_program_model(program, lm=lm)
        mlflow.set_tag("sigflow.model_uri", info.model_uri)
    return register(info.model_uri, name, {**scores, "fingerprint": program.fingerprint(), "run_id": run_id})
