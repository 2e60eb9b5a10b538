"""An optimized program published: logged as a model in its optimization's run and registered as a new
version, tagged with how it scored."""

from __future__ import annotations

from typing import Any

from pipelines.lm.client import LM
from pipelines.modules import Module
from serving import tracking
from serving.packaging import log_program_model
from serving.registry import VersionInfo, register
from serving.tracking import mlflow_module


def publish(program: Module, *, lm: LM, name: str, scores: dict[str, Any], run_id: str | None = None
            ) -> VersionInfo:
    """Log `program` into run `run_id` (the run that scored it; by default a new run) and register it as a
    version of `name`, tagged with `scores` (dataset, metric, score, optimizer) and its fingerprint."""
    mlflow = mlflow_module()
    with tracking.run(f"publish {name}", scores, resume_id=run_id) as active_id:
        info = log_program_model(program, lm=lm)
        mlflow.set_tag("sigflow.model_uri", info.model_uri)
    return register(info.model_uri, name, {**scores, "fingerprint": program.fingerprint(), "run_id": active_id})
