"""`classify` served by `mlflow models serve` on loopback (one worker, the embedded model): 4 concurrent
clients send 40 single-question requests (TREC dev questions), first with an empty LM cache (cold: every
request is LM work), then again (warm: every answer a cache hit). Latency p50 and p99, requests per second,
failed requests; and the endpoint's overhead, the warm p50 over the same cached calls made in process."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest.mock import patch

import requests

from pipelines import LM, ParseError, context
from pipelines.datasets import load_dataset
from pipelines.programs import Classify
from serving.endpoint import running_server
from serving.publish import publish
from serving.registry import promote

CLIENTS = 4


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


def _in_process_p50(questions: list[str]) -> float:
    program, latencies = Classify(), []
    with context(lm=LM()):
        for question in questions:
            started = time.perf_counter()
            with contextlib.suppress(ParseError):  # the served model answers these with an `error` column
                program(question=question)
            latencies.append(time.perf_counter() - started)
    return 1000 * statistics.median(latencies)


def run(quick: bool) -> dict[str, Any]:
    questions = [example.question for example in load_dataset("trec").split("dev", 8 if quick else 40)]
    with tempfile.TemporaryDirectory() as directory, patch.dict(os.environ, {
            "MLFLOW_TRACKING_URI": f"sqlite:///{Path(directory, 'mlflow.db')}",
            "SIGFLOW_ARTIFACT_ROOT": str(Path(directory, "artifacts")),
            "SIGFLOW_CACHE_DIR": str(Path(directory, "cache"))}):
        version = publish(Classify(), lm=LM(), name="classify-benchmark",
                          scores={"dataset": "trec", "metric": "accuracy", "score": 0.0, "optimizer": "none"})
        promote("classify-benchmark", version.version)
        with running_server("models:/classify-benchmark@champion") as server:
            cold = _burst(server.invocations, questions)
            warm = _burst(server.invocations, questions)
        in_process = _in_process_p50(questions)
    return {"clients": CLIENTS, "cold": cold, "warm": warm, "in_process_warm_p50_ms": in_process,
            "endpoint_overhead_ms": warm["p50_ms"] - in_process}


def report(result: dict[str, Any]) -> str:
    rows = [f"| {name} | {r['requests']} | {r['failed']} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} | "
            f"{r['requests_per_second']:.2f} |" for name, r in (("cold cache", result["cold"]),
                                                                  ("warm cache", result["warm"]))]
    return "\n".join([
        f"{result['clients']} concurrent clients, one question per request.", "",
        "| cache | requests | failed | p50 ms | p99 ms | requests/s |", "|---|---:|---:|---:|---:|---:|", *rows, "",
        f"The same cached calls in process take {result['in_process_warm_p50_ms']:.1f} ms (p50): the endpoint "
        f"adds {result['endpoint_overhead_ms']:.0f} ms per request (HTTP, JSON, DataFrame, schema checks).",
    ])
