"""Throughput of the embedded model through the whole LM door (cache off): a batch of short TREC
classification calls sent from as many threads, with 1 worker process and with one per core. Each setting
runs in a fresh process, after every worker has loaded its model; the batch is the first TREC dev
questions, answered in at most 5 tokens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from pipelines import LM, parallel_map
from pipelines.datasets import TREC_LABELS, load_trec
from pipelines.lm.local.pool import shared_pool

_INSTRUCTION = ("Classify the question by the kind of answer it expects. Reply with one word: "
                + ", ".join(TREC_LABELS.values()) + ".")


def measure(calls: int) -> dict[str, Any]:
    """One setting, in this process: the pool as `SIGFLOW_LOCAL_WORKERS` makes it."""
    questions = [row.question for row in load_trec()["dev"][:calls]]
    lm = LM(max_tokens=5, cache=False)
    workers = len(shared_pool().warm_up())
    lm("warm up the provider")
    started = time.perf_counter()
    completions = parallel_map(
        lambda question: lm.complete([{"role": "system", "content": _INSTRUCTION},
                                      {"role": "user", "content": question}]),
        questions, num_threads=len(questions))
    seconds = time.perf_counter() - started
    return {
        "workers": workers,
        "calls": len(completions),
        "seconds": round(seconds, 2),
        "calls_per_second": round(len(completions) / seconds, 2),
        "completion_tokens": sum(completion.completion_tokens for completion in completions),
        "prompt_tokens": sum(completion.prompt_tokens for completion in completions),
    }


def _measure_in_fresh_process(workers: int, calls: int) -> dict[str, Any]:
    script = f"import json; from {__name__} import measure; print(json.dumps(measure({calls})))"
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "SIGFLOW_LOCAL_WORKERS": str(workers)})
    return json.loads(finished.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict[str, Any]:
    calls = 8 if quick else 40
    cores = len(os.sched_getaffinity(0))
    settings = [_measure_in_fresh_process(workers, calls) for workers in sorted({1, cores})]
    return {
        "settings": settings,
        "speedup": round(settings[-1]["calls_per_second"] / settings[0]["calls_per_second"], 2),
    }


def report(result: dict[str, Any]) -> str:
    rows = [f"| {s['workers']} | {s['calls']} | {s['seconds']} | {s['calls_per_second']} | "
            f"{s['prompt_tokens']} + {s['completion_tokens']} |" for s in result["settings"]]
    return "\n".join([
        "| worker processes | calls | seconds | calls per second | prompt + completion tokens |",
        "|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Speed-up of {result['settings'][-1]['workers']} workers over 1: **{result['speedup']}x**.",
    ])
