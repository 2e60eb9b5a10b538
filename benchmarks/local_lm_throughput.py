"""Throughput of the embedded model through the whole LM door (cache off): a batch of short TREC
classification calls sent from as many threads, with 1 worker process and with one per core. Each setting
runs in a fresh process, after every worker has loaded its model; the batch is the first TREC dev
questions, answered in at most 5 tokens.

The same prompts then go to llama-cpp-python directly, in as many processes of one thread each, split
evenly, timed from a common start after every model has loaded: once as llama-cpp-python is used by
default (the shared system prompt's prefix is reused from one call to the next) and once with `reset()`
before each call, as sigflow's workers do so that temperature-0 output repeats. sigflow's calls per second
over the raw ones is the cost of the whole stack (the door, the pool, the JSON pipe)."""

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


_RAW_PROCESS = """
import json, os, sys
os.environ["OMP_NUM_THREADS"] = "1"
from llama_cpp import Llama
model, reset, prompts = sys.argv[1], sys.argv[2] == "reset", json.loads(sys.argv[3])
llama = Llama(model_path=model, n_ctx=8192, n_threads=1, n_threads_batch=1, seed=0, verbose=False)
print("ready", flush=True)
sys.stdin.readline()
for messages in prompts:
    if reset:
        llama.reset()
    llama.create_chat_completion(messages=messages, max_tokens=5, temperature=0)
print("done", flush=True)
"""


def measure_raw(processes: int, calls: int, reset: bool) -> dict[str, Any]:
    """llama-cpp-python without sigflow: `processes` processes of one thread share the batch."""
    from pipelines import settings
    from pipelines.lm.local.gguf import ensure_model

    model = str(ensure_model(settings.model_dir()))
    messages = [[{"role": "system", "content": _INSTRUCTION}, {"role": "user", "content": row.question}]
                for row in load_trec()["dev"][:calls]]
    shares = [messages[index::processes] for index in range(processes)]
    running = [subprocess.Popen([sys.executable, "-c", _RAW_PROCESS, model, "reset" if reset else "reuse",
                                 json.dumps(share)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
               for share in shares]
    for process in running:
        assert process.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for process in running:
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in running:
        assert process.stdout.readline().strip() == "done"
        process.wait()
    seconds = time.perf_counter() - started
    return {"processes": processes, "reset": reset, "calls": calls, "seconds": round(seconds, 2),
            "calls_per_second": round(calls / seconds, 2)}


def _measure_in_fresh_process(workers: int, calls: int) -> dict[str, Any]:
    script = f"import json; from {__name__} import measure; print(json.dumps(measure({calls})))"
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "SIGFLOW_LOCAL_WORKERS": str(workers)})
    return json.loads(finished.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict[str, Any]:
    calls = 8 if quick else 40
    cores = len(os.sched_getaffinity(0))
    settings = [_measure_in_fresh_process(workers, calls) for workers in sorted({1, cores})]
    raw = [measure_raw(processes, calls, reset) for processes in sorted({1, cores}) for reset in (False, True)]
    return {
        "settings": settings,
        "speedup": round(settings[-1]["calls_per_second"] / settings[0]["calls_per_second"], 2),
        "raw": raw,
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
        *_raw_report(result),
    ])


def _raw_report(result: dict[str, Any]) -> list[str]:
    if "raw" not in result:
        return []
    ours = {setting["workers"]: setting["calls_per_second"] for setting in result["settings"]}
    rows = []
    for raw in result["raw"]:
        sigflow = ours[raw["processes"]]
        mode = "reset before each call" if raw["reset"] else "prefix reused (default)"
        rows.append(f"| {raw['processes']} | {mode} | {raw['calls_per_second']} | {sigflow} | "
                    f"{sigflow / raw['calls_per_second']:.2f} |")
    return ["", "The same calls to llama-cpp-python directly:", "",
            "| processes | raw llama-cpp-python | raw calls/s | sigflow calls/s | sigflow / raw |",
            "|---:|---|---:|---:|---:|", *rows]
