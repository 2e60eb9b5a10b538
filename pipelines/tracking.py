"""MLflow tracking of sigflow runs. MLflow is imported here only, and only when a run is logged."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipelines.evaluation.evaluate import EvaluationResult
from pipelines.evaluation.store import evaluation_to_dict
from pipelines.fieldtypes import to_jsonable

DEFAULT_EXPERIMENT = "sigflow"
EVALUATION_ARTIFACT = "evaluation.json"


def _mlflow():
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow

    return mlflow


def use_local_store(directory: Path) -> None:
    """Point MLflow at `directory` (SQLite and artifacts) unless `MLFLOW_TRACKING_URI` says otherwise."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{directory.resolve() / 'mlflow.db'}"
    os.environ.setdefault("SIGFLOW_ARTIFACT_ROOT", str((directory / "artifacts").resolve()))


@contextmanager
def run(name: str, params: Mapping[str, Any], *, nested: bool = False) -> Iterator[str]:
    """An MLflow run in the `$MLFLOW_EXPERIMENT_NAME` (else `sigflow`) experiment; yields its id."""
    mlflow = _mlflow()
    experiment = os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT
    if mlflow.get_experiment_by_name(experiment) is None:
        root = os.environ.get("SIGFLOW_ARTIFACT_ROOT")
        mlflow.create_experiment(experiment, artifact_location=Path(root, experiment).as_uri() if root else None)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=name, nested=nested) as active:
        mlflow.log_params({key: str(value)[:500] for key, value in params.items()})
        yield active.info.run_id


def log_evaluation(result: EvaluationResult, values: Mapping[str, float], prefix: str = "") -> None:
    """Log the metric `values`, the usage, the predictions table and the evaluation itself (so it can be
    re-scored later) in the active run, every name starting with `prefix`."""
    mlflow = _mlflow()
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
    from pipelines.evaluation.store import evaluation_from_dict

    mlflow = _mlflow()
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
    with _mlflow().start_run(run_id=run_id):
        _mlflow().log_metrics(dict(metrics))


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
