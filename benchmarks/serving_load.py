"""`classify` served by `mlflow models serve` on loopback (the embedded model, tracing on): 4 concurrent
clients send 40 single-question requests (TREC dev questions), first with an empty LM cache (cold: every
request is LM work), then again (warm: every answer a cache hit). Latency p50 and p99, requests per second,
failed requests. Then where a warm request's time goes, each stage's p50 over the same questions sent one
at a time: the program called in process, the PyFunc model's `predict` in process (DataFrame in and out,
schema checks) with MLflow tracing off and on, one HTTP client, and the 4 concurrent clients above. The
warm figures again from a server of 2 worker processes (`sigflow serve --workers 2`). Each server's traces
go through a trace collector; the store is counted once the server has stopped: a trace for every request."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest.mock import patch

import mlflow
import pandas as pd
import requests

from pipelines import LM, ParseError, context
from pipelines.datasets import load_dataset
from pipelines.programs import Classify
from serving.endpoint import running_server
from serving.publish import publish
from serving.registry import promote

CLIENTS = 4
MODEL_URI = "models:/classify-benchmark@champion"
STAGES = (("program", "the program called in process (LM cache hit)", ""),
          ("predict_untraced", "PyFunc `predict` in process, tracing off", "DataFrame in and out, schema checks"),
          ("predict_traced", "PyFunc `predict` in process, tracing on", "the request's trace"),
          ("http_one_client", "HTTP, one client", "HTTP, JSON, the server"))


def _burst(url: str, questions: list[str]) -> dict[str, Any]:
    def ask(question: str) -> tuple[float, int]:
        started = time.perf_counter()
        response = requests.post(url, json={"dataframe_records": [{"question": question}]}, timeout=600)
        return time.perf_counter() - started, response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(ask, questions))
    seconds = time.perf_counter() - started
    latencies = sorted(latency for latency, _ in results)
    return {"requests": len(results), "failed": sum(status != 200 for _, status in results),
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))],
            "requests_per_second": len(results) / seconds}


def _p50_ms(call: Callable[[str], Any], questions: list[str]) -> float:
    latencies = []
    for question in questions:
        started = time.perf_counter()
        call(question)
        latencies.append(time.perf_counter() - started)
    return 1000 * statistics.median(latencies)


def _program_call(question: str) -> None:
    with contextlib.suppress(ParseError):  # the served model answers these with an `error` column
        Classify()(question=question)


def _in_process_stages(model_uri: str, questions: list[str]) -> dict[str, float]:
    """The stages of a warm request that run in this process, cheapest first."""
    with context(lm=LM()):
        program = _p50_ms(_program_call, questions)
    model = mlflow.pyfunc.load_model(model_uri)

    def predict(question: str) -> None:
        model.predict(pd.DataFrame({"question": [question]}))

    mlflow.tracing.disable()
    try:
        untraced = _p50_ms(predict, questions)
    finally:
        mlflow.tracing.enable()
    traced = _p50_ms(predict, questions)
    mlflow.flush_trace_async_logging()
    return {"program": program, "predict_untraced": untraced, "predict_traced": traced}


def _one_client_p50_ms(invocations: str, questions: list[str]) -> float:
    return _p50_ms(lambda question: requests.post(invocations, timeout=600, json={
        "dataframe_records": [{"question": question}]}).raise_for_status(), questions)


def _served(questions: list[str], workers: int) -> dict[str, Any]:
    """Cold and warm bursts and one client against a server of `workers` processes, and whether the store
    holds a trace of every request once the server (and its trace collector) has stopped."""
    before = _trace_count()
    with running_server(MODEL_URI, workers=workers) as server:
        cold = _burst(server.invocations, questions)
        warm = _burst(server.invocations, questions)
        one_client = _one_client_p50_ms(server.invocations, questions)
        stopping = time.perf_counter()
    return {"cold": cold, "warm": warm, "http_one_client_p50_ms": one_client,
            "requests": cold["requests"] + warm["requests"] + len(questions),
            "traces_written": _trace_count() - before, "stop_seconds": time.perf_counter() - stopping}


def _trace_count() -> int:
    experiments = [experiment.experiment_id for experiment in mlflow.search_experiments()]
    return len(mlflow.search_traces(locations=experiments, return_type="list", max_results=100_000))


def run(quick: bool) -> dict[str, Any]:
    questions = [example.question for example in load_dataset("trec").split("dev", 8 if quick else 40)]
    with tempfile.TemporaryDirectory() as directory, patch.dict(os.environ, {
            "MLFLOW_TRACKING_URI": f"sqlite:///{Path(directory, 'mlflow.db')}",
            "SIGFLOW_ARTIFACT_ROOT": str(Path(directory, "artifacts")),
            "SIGFLOW_CACHE_DIR": str(Path(directory, "cache"))}):
        version = publish(Classify(), lm=LM(), name="classify-benchmark",
                          scores={"dataset": "trec", "metric": "accuracy", "score": 0.0, "optimizer": "none"})
        promote("classify-benchmark", version.version)
        one_worker = _served(questions, workers=1)  # fills the LM cache: the in-process stages are warm
        stages = _in_process_stages(MODEL_URI, questions) | {"http_one_client": one_worker["http_one_client_p50_ms"]}
        two_workers = _served(questions, workers=2)
    return {"clients": CLIENTS, "cold": one_worker["cold"], "warm": one_worker["warm"], "warm_stages_p50_ms": stages,
            "traces": {str(workers): {key: served[key] for key in ("requests", "traces_written", "stop_seconds")}
                       for workers, served in ((1, one_worker), (2, two_workers))},
            "two_workers": {key: two_workers[key] for key in ("warm", "http_one_client_p50_ms")}}


def report(result: dict[str, Any]) -> str:
    rows = [f"| {name} | {r['requests']} | {r['failed']} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | "
            f"{r['requests_per_second']:.2f} |" for name, r in (("cold cache", result["cold"]),
                                                                  ("warm cache", result["warm"]))]
    return "\n".join([
        f"{result['clients']} concurrent clients, one question per request.", "",
        "| cache | requests | failed | p50 ms | p99 ms | requests/s |", "|---|---:|---:|---:|---:|---:|", *rows, "",
        *_stage_table(result), *_workers_table(result),
    ])


def _workers_table(result: dict[str, Any]) -> list[str]:
    if "two_workers" not in result:  # stored before servers of 2 workers were measured
        return []
    traces = result.get("traces", {})
    rows, two = [], result["two_workers"]
    for workers, one_client, warm in ((1, result["warm_stages_p50_ms"]["http_one_client"], result["warm"]),
                                      (2, two["http_one_client_p50_ms"], two["warm"])):
        written = traces.get(str(workers))
        stored = (f"{written['traces_written']} of {written['requests']} | {written['stop_seconds']:.1f}"
                  if written else "not counted | ")
        rows.append(f"| {workers} | {one_client:.1f} | {warm['p50_ms']:.1f} | {warm['p99_ms']:.1f} | "
                    f"{warm['requests_per_second']:.1f} | {stored} |")
    return ["", "Warm, by server worker processes (traces counted in the store once the server has stopped):", "",
            f"| server workers | one client p50 ms | {result['clients']} clients p50 ms | p99 ms | requests/s | "
            "requests traced | stop s |", "|---:|---:|---:|---:|---:|---:|---:|", *rows]


def _stage_table(result: dict[str, Any]) -> list[str]:
    stages = result.get("warm_stages_p50_ms")
    if stages is None:  # stored before the stages were measured
        return []
    rows, previous = [], 0.0
    for key, stage, adds in STAGES:
        rows.append(f"| {stage} | {stages[key]:.1f} | {stages[key] - previous:+.1f} | {adds} |")
        previous = stages[key]
    concurrent = result["warm"]["p50_ms"]
    rows.append(f"| HTTP, {result['clients']} concurrent clients | {concurrent:.1f} | {concurrent - previous:+.1f} | "
                "waiting for the one worker |")
    return ["Where a warm request's time goes (p50 of each stage alone, questions sent one at a time):", "",
            "| stage | p50 ms | over the stage above | what it adds |", "|---|---:|---:|---|", *rows]
