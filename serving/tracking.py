"""MLflow tracking of sigflow runs. MLflow is imported here only, and only when a run is logged."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.evaluation.evaluate import EvaluationResult
from pipelines.evaluation.store import evaluation_from_dict, evaluation_to_dict
from pipelines.fieldtypes import to_jsonable

DEFAULT_EXPERIMENT = "sigflow"
EVALUATION_ARTIFACT = "evaluation.json"
FINISHED_TAG = "sigflow.finished"


def mlflow_module():
    """MLflow, imported on first use, with its telemetry off."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    return mlflow


@dataclass(frozen=True)
class TrackingStore:
    """Where runs, models and artifacts go: an MLflow tracking URI, and the root under which a new
    experiment keeps its artifacts (None: MLflow's default for that URI)."""

    uri: str
    artifact_root: Path | None = None

    @classmethod
    def resolve(cls, default_directory: Path) -> TrackingStore:
        """`$MLFLOW_TRACKING_URI`, else SQLite in `default_directory`; artifacts under `$SIGFLOW_ARTIFACT_ROOT`
        if set, else (for the local store) in `default_directory`."""
        configured = os.environ.get("MLFLOW_TRACKING_URI")
        if configured:
            return cls(configured, _artifact_root_setting())
        directory = default_directory.resolve()
        return cls(f"sqlite:///{directory / 'mlflow.db'}", _artifact_root_setting() or directory / "artifacts")

    def activate(self) -> None:
        """Make MLflow log to this store from now on, in this process."""
        if self.uri.startswith("sqlite:///"):
            Path(self.uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        mlflow_module().set_tracking_uri(self.uri)
        _experiment(self.artifact_root)


def portable_uri(uri: str) -> str:
    """`uri` with a relative SQLite or file path made absolute, so that a process started in another
    directory (a model server, the load check) opens the same store."""
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////") and ":memory:" not in uri:
        return f"sqlite:///{Path(uri.removeprefix('sqlite:///')).resolve()}"
    if uri.startswith("file:") and not uri.startswith("file:///"):
        return Path(uri.removeprefix("file:")).resolve().as_uri()
    if "://" not in uri and not uri.startswith(("databricks", "file:")):
        return str(Path(uri).resolve())
    return uri


@contextmanager
def run(name: str, params: Mapping[str, Any], *, nested: bool = False, tags: Mapping[str, str] | None = None,
        resume_id: str | None = None) -> Iterator[str]:
    """An MLflow run in the `$MLFLOW_EXPERIMENT_NAME` (else `sigflow`) experiment; yields its id. With
    `resume_id`, that run is reopened and keeps the parameters it was started with."""
    mlflow = mlflow_module()
    mlflow.set_experiment(_experiment(_artifact_root_setting()))
    with mlflow.start_run(run_id=resume_id, run_name=None if resume_id else name, nested=nested,
                          tags=dict(tags or {})) as active:
        if resume_id is None:
            mlflow.log_params({key: str(value)[:500] for key, value in params.items()})
        yield active.info.run_id


def _experiment(artifact_root: Path | None) -> str:
    """`$MLFLOW_EXPERIMENT_NAME` (else `sigflow`), created with its artifacts under `artifact_root` if new."""
    mlflow = mlflow_module()
    experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
    if mlflow.get_experiment_by_name(experiment) is None:
        location = Path(artifact_root, experiment).as_uri() if artifact_root else None
        mlflow.create_experiment(experiment, artifact_location=location)
    return experiment


def _artifact_root_setting() -> Path | None:
    root = os.environ.get("SIGFLOW_ARTIFACT_ROOT")
    return Path(root).resolve() if root else None


def latest_run(tags: Mapping[str, str], *, unfinished: bool) -> str | None:
    """The newest run carrying every tag (and, with `unfinished`, not tagged `sigflow.finished`)."""
    mlflow = mlflow_module()
    experiment = mlflow.get_experiment_by_name(_experiment(_artifact_root_setting()))
    conditions = [f"tags.`{key}` = '{value}'" for key, value in tags.items()]
    runs = mlflow.search_runs([experiment.experiment_id], filter_string=" and ".join(conditions),
                              order_by=["attributes.start_time DESC"], output_format="list")
    for found in runs:
        if not unfinished or found.data.tags.get(FINISHED_TAG) != "true":
            return found.info.run_id
    return None


def mark_finished() -> None:
    mlflow_module().set_tag(FINISHED_TAG, "true")


def log_evaluation(result: EvaluationResult, values: Mapping[str, float], prefix: str = "") -> None:
    """Log the metric `values`, the usage, the predictions table and the evaluation itself (so it can be
    re-scored later) in the active run, every name starting with `prefix`."""
    mlflow = mlflow_module()
    usage = result.usage
    mlflow.log_metrics({f"{prefix}{name}": value for name, value in {
        **values, "score": result.score, "seconds": result.seconds, "lm_calls": usage.calls,
        "cache_hits": usage.cache_hits, "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens, "cost": usage.cost, "errors": result.errors,
        "parse_failures": usage.parse_failures, "parse_retries": usage.parse_retries}.items()})
    mlflow.log_table(predictions_table(result), artifact_file=f"{prefix}predictions.json")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"{prefix}{EVALUATION_ARTIFACT}"
        path.write_text(json.dumps(evaluation_to_dict(result), ensure_ascii=False))
        mlflow.log_artifact(str(path))


def load_evaluation(run_id: str) -> tuple[dict[str, str], EvaluationResult]:
    """A logged run's parameters and its stored evaluation."""
    mlflow = mlflow_module()
    try:
        params = mlflow.get_run(run_id).data.params
    except mlflow.exceptions.MlflowException as error:
        raise ValueError(f"no MLflow run {run_id!r} in {mlflow.get_tracking_uri()}") from error
    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=EVALUATION_ARTIFACT)
    except (mlflow.exceptions.MlflowException, OSError) as error:
        raise ValueError(f"run {run_id} has no {EVALUATION_ARTIFACT}: only evaluations can be re-scored") from error
    return params, evaluation_from_dict(json.loads(Path(path).read_text()), source=f"run {run_id}")


def log_metrics_to(run_id: str, metrics: Mapping[str, float]) -> None:
    with mlflow_module().start_run(run_id=run_id):
        mlflow_module().log_metrics(dict(metrics))


def predictions_table(result: EvaluationResult) -> dict[str, list[Any]]:
    """One row per example: its id, inputs and labels, the outputs, the score and any error."""
    rows = [{"example_id": item.example_id,
             **{f"example.{k}": _cell(v) for k, v in item.example.items()},
             **{f"output.{k}": _cell(v) for k, v in (item.outputs or {}).items()},
             "score": item.score, "error": item.error or "", "lm_calls": item.usage.calls}
            for item in result.results]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return {column: [row.get(column, "") for row in rows] for column in columns}


def _cell(value: Any) -> Any:
    value = to_jsonable(value)
    return value if isinstance(value, str | int | float | bool) else json.dumps(value, ensure_ascii=False)
