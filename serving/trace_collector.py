"""Served requests' traces written to the tracking store by a process of their own. MLflow writes each trace
to a SQL store with some eighty statements on threads of the serving process, which then hold the interpreter
away from the requests; sent instead in batches over OTLP to an `mlflow server` on the same store (its
`/v1/traces` endpoint), a warm request takes 8 ms instead of 20 and the store still gets every trace
(`python -m benchmarks run serving_load`). OTLP carries the spans, their inputs and outputs and the
trace's own tags, not MLflow's trace metadata (the logged model and the source of the trace).

A tracking server (`http(s)://`) is its own collector: there the served model keeps MLflow's own export."""

from __future__ import annotations

import os
import sys

from serving.tracking import mlflow_module

# How long a finished span may wait for its batch (OTel's default is 5 s): traces show up within a second.
BATCH_DELAY_MS = 1000
# Batches of about twenty traces, each written well within the export timeout, which is long because a
# collector behind on a burst answers late (a batch that times out is dropped).
BATCH_SPANS = 64
EXPORT_TIMEOUT_SECONDS = 60
DEFAULT_EXPERIMENT_ID = "0"
# The collector only writes traces: no job runner process (it would start and stop a second process).
COLLECTOR_ENVIRONMENT = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def wants_collector(tracking_uri: str) -> bool:
    """Whether traces to `tracking_uri` should go through a collector: a store the serving process would
    otherwise write itself (a database or a directory), not a tracking server."""
    return not tracking_uri.startswith(("http://", "https://", "databricks"))


def collector_command(tracking_uri: str, host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", tracking_uri, "--host", host,
            "--port", str(port), "--workers", "1"]


def exporter_environment(collector_url: str, experiment_id: str | None = None) -> dict[str, str]:
    """What makes MLflow in a serving process send its traces to the collector, into `experiment_id`
    (by default `trace_experiment_id()`)."""
    experiment_id = experiment_id or trace_experiment_id()
    return {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{collector_url}/v1/traces",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS": f"x-mlflow-experiment-id={experiment_id}",
            "OTEL_BSP_SCHEDULE_DELAY": str(BATCH_DELAY_MS), "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": str(BATCH_SPANS),
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": str(EXPORT_TIMEOUT_SECONDS)}


def trace_experiment_id() -> str:
    """The experiment served traces go to, as MLflow would choose it in the serving process: the one the
    environment names, else the default experiment."""
    return named_experiment_id() or DEFAULT_EXPERIMENT_ID


def named_experiment_id() -> str | None:
    """The experiment the environment names by id or by name (created if missing), as a parent's
    `set_experiment` passes it on; None when it names none."""
    if experiment_id := os.environ.get("MLFLOW_EXPERIMENT_ID"):
        return experiment_id
    if name := os.environ.get("MLFLOW_EXPERIMENT_NAME"):
        mlflow = mlflow_module()
        experiment = mlflow.get_experiment_by_name(name)
        return experiment.experiment_id if experiment else mlflow.create_experiment(name)
    return None
