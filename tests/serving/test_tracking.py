"""Where runs go: the tracking store is resolved from the environment or a local directory, and activating it
points MLflow there through MLflow's own API."""

import os

import mlflow

from serving import tracking
from serving.tracking import TrackingStore, portable_uri


def test_the_environment_names_the_store_first(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "postgresql://mlflow@db/mlflow")
    monkeypatch.setenv("SIGFLOW_ARTIFACT_ROOT", str(tmp_path / "shared"))
    assert TrackingStore.resolve(tmp_path / "mlruns") == TrackingStore("postgresql://mlflow@db/mlflow",
                                                                       tmp_path / "shared")


def test_without_one_the_store_is_sqlite_and_artifacts_in_the_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.delenv("SIGFLOW_ARTIFACT_ROOT")
    store = TrackingStore.resolve(tmp_path / "mlruns")
    assert store == TrackingStore(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}", tmp_path / "mlruns" / "artifacts")
    assert not (tmp_path / "mlruns").exists()  # resolving decides; it writes nothing


def test_activating_points_mlflow_at_the_store_and_its_artifacts_under_the_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.delenv("SIGFLOW_ARTIFACT_ROOT")
    environment = dict(os.environ)
    store = TrackingStore.resolve(tmp_path / "mlruns")
    store.activate()
    assert mlflow.get_tracking_uri() == store.uri
    changed = {key: value for key, value in os.environ.items() if environment.get(key) != value}
    assert changed == {"MLFLOW_TRACKING_URI": store.uri}  # MLflow's own export, for its subprocesses
    with tracking.run("a run", {"program": "classify"}) as run_id:
        mlflow.log_text("kept", "note.txt")
    assert mlflow.get_run(run_id).info.artifact_uri.startswith((tmp_path / "mlruns" / "artifacts").as_uri())


def test_the_local_store_keeps_artifacts_where_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.setenv("SIGFLOW_ARTIFACT_ROOT", str(tmp_path / "elsewhere"))
    assert TrackingStore.resolve(tmp_path / "mlruns").artifact_root == tmp_path / "elsewhere"


def test_a_relative_store_is_made_absolute_for_processes_started_elsewhere(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert portable_uri("sqlite:///mlflow.db") == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert portable_uri("mlruns") == str(tmp_path.resolve() / "mlruns")
    assert portable_uri("file:./mlruns") == (tmp_path.resolve() / "mlruns").as_uri()
    for unchanged in ("sqlite:////abs/mlflow.db", "http://127.0.0.1:5000", "postgresql://u@h/db", "databricks"):
        assert portable_uri(unchanged) == unchanged
