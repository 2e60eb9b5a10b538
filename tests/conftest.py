"""Every test gets its own LM cache and MLflow store; the assembled local model is shared across tests."""

from __future__ import annotations

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
    return tmp_path
