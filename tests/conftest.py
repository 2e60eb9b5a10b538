"""Every test gets its own LM cache and MLflow store; the assembled local model is shared across tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pipelines import settings


@pytest.fixture(scope="session")
def shared_model_dir() -> Path:
    """The machine's model directory, resolved before any test redirects the cache root."""
    return settings.model_dir()


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_model_dir: Path) -> Path:
    monkeypatch.setenv("SIGFLOW_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SIGFLOW_MODEL_DIR", str(shared_model_dir))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("SIGFLOW_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("SIGFLOW_LM", raising=False)
    # mlflow.set_experiment exports MLFLOW_EXPERIMENT_ID; deleting it here makes monkeypatch remove it after.
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    _forget_mlflow_state(f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


def _forget_mlflow_state(tracking_uri: str) -> None:
    """MLflow keeps the tracking URI and the active experiment in globals: point them at this test's store,
    or traces and runs of one test land in the store (and experiment) of an earlier one."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.tracking.fluent._active_experiment_id = None
    mlflow.tracing.reset()  # the tracer keeps the destination it was first set up with
