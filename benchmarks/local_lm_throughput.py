"""Throughput of the embedded model through the whole LM door (cache off), against llama-cpp-python used
directly, on three kinds of prompt: short TREC classification calls (a system message and the question),
the same with the eight demos an optimizer gives (`classify`'s real prompt), and `rag`'s answer step over
three BBC passages (nothing shared but the system message). Every call answers in at most 5 tokens, so the
figures are about the prompt.

sigflow runs with 1 worker process and with one per core, each setting in a fresh process after every
worker has loaded its model, the calls sent from as many threads. The same prompts then go to
llama-cpp-python in as many processes of one thread each, split evenly and timed from a common start: once
as it is used by default (whatever prefix the previous call left is reused, so output depends on history)
and once with `reset()` before each call (what sigflow did before it kept prefixes: every token computed
every time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pipelines import LM, parallel_map
from pipelines.adapter import format_messages
from pipelines.datasets import load_trec
from pipelines.datasets.bbc import load_bbc
from pipelines.lm.local.pool import shared_pool
from pipelines.programs.classify import ClassifyQuestion
from pipelines.programs.rag import AnswerFromContext

KINDS = {
    "short": "short TREC call",
    "trec_8_demos": "TREC with 8 demos",
    "rag_3_passages": "RAG over 3 passages",
}
MAX_TOKENS = 5


def prompts(kind: str, calls: int) -> list[list[dict[str, str]]]:
    if kind == "rag_3_passages":
        return _rag_prompts(calls)
    trec = load_trec()
    demos = [{"question": row.question, "label": row.label} for row in trec["train"][:8]]
    chosen = demos if kind == "trec_8_demos" else []
    return [format_messages(ClassifyQuestion, chosen, {"question": row.question}) for row in trec["dev"][:calls]]


def _rag_prompts(calls: int) -> list[list[dict[str, str]]]:
    """Each question with the first three passages of its own article."""
    bbc = load_bbc()
    by_article: dict[str, list[str]] = {}
    for passage in bbc.corpus:
        by_article.setdefault(passage.metadata["article_id"], []).append(passage.text)
    return [format_messages(AnswerFromContext, [], {"context": by_article[example["article_id"]][:3],
                                                    "question": example["question"]})
            for example in bbc.split("dev")[:calls]]


def measure(kind: str, calls: int) -> dict[str, Any]:
    """One setting, in this process: the pool as `SIGFLOW_LOCAL_WORKERS` makes it."""
    messages = prompts(kind, calls)
    lm = LM(max_tokens=MAX_TOKENS, cache=False)
    pids = shared_pool().warm_up()
    lm("warm up the provider")
    started = time.perf_counter()
    completions = parallel_map(lm.complete, messages, num_threads=len(messages))
    seconds = time.perf_counter() - started
    return {
        "workers": len(pids),
        "calls": len(completions),
        "seconds": round(seconds, 2),
        "calls_per_second": round(len(completions) / seconds, 2),
        "prompt_tokens": sum(completion.prompt_tokens for completion in completions),
        "worker_peak_mb": max(_peak_megabytes(pid) for pid in pids),
    }


def _peak_megabytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    raise RuntimeError(f"no peak memory figure for process {pid}")


_RAW_PROCESS = """
import json, os, sys
os.environ["OMP_NUM_THREADS"] = "1"
from llama_cpp import Llama
model, reset, max_tokens = sys.argv[1], sys.argv[2] == "reset", int(sys.argv[3])
prompts = json.loads(sys.stdin.readline())
llama = Llama(model_path=model, n_ctx=8192, n_threads=1, n_threads_batch=1, seed=0, verbose=False)
print("ready", flush=True)
sys.stdin.readline()
for messages in prompts:
    if reset:
        llama.reset()
    llama.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0)
print("done", flush=True)
"""


def measure_raw(kind: str, processes: int, calls: int, reset: bool) -> dict[str, Any]:
    """llama-cpp-python without sigflow: `processes` processes of one thread share the batch."""
    from pipelines import settings
    from pipelines.lm.local.gguf import ensure_model

    model = str(ensure_model(settings.model_dir()))
    messages = prompts(kind, calls)
    running = []
    for index in range(processes):
        process = subprocess.Popen([sys.executable, "-c", _RAW_PROCESS, model, "reset" if reset else "reuse",
                                    str(MAX_TOKENS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        process.stdin.write(json.dumps(messages[index::processes]) + "\n")
        process.stdin.flush()
        running.append(process)
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


def _measure_in_fresh_process(kind: str, workers: int, calls: int) -> dict[str, Any]:
    script = f"import json; from {__name__} import measure; print(json.dumps(measure({kind!r}, {calls})))"
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env={**os.environ, "SIGFLOW_LOCAL_WORKERS": str(workers)})
    return json.loads(finished.stdout.strip().splitlines()[-1])


def run(quick: bool) -> dict[str, Any]:
    # The quick mode smoke-tests every kind with one worker: each setting starts its own model processes.
    worker_counts = [1] if quick else sorted({1, len(os.sched_getaffinity(0))})
    results = {}
    for kind in KINDS:
        calls = (2 if quick else 16) if kind == "rag_3_passages" else (4 if quick else 40)
        results[kind] = {
            "sigflow": [_measure_in_fresh_process(kind, workers, calls) for workers in worker_counts],
            "raw": [measure_raw(kind, processes, calls, reset)
                    for processes in worker_counts for reset in (False, True)],
        }
    return {"kinds": results}


def report(result: dict[str, Any]) -> str:
    rows = []
    for kind, label in KINDS.items():
        measured = result["kinds"][kind]
        raw = {(entry["processes"], entry["reset"]): entry["calls_per_second"] for entry in measured["raw"]}
        for ours in measured["sigflow"]:
            workers, speed = ours["workers"], ours["calls_per_second"]
            reuse, reset = raw[(workers, False)], raw[(workers, True)]
            rows.append(f"| {label} | {workers} | {ours['calls']} | {ours['prompt_tokens'] // ours['calls']} | "
                        f"{speed} | {reuse} | {reset} | **{speed / reuse:.2f}** | {speed / reset:.2f} | "
                        f"{ours['worker_peak_mb']} |")
    return "\n".join([
        "| prompt | workers / processes | calls | prompt tokens per call | sigflow calls/s | raw, prefix reused "
        "calls/s | raw, reset calls/s | sigflow / raw reused | sigflow / raw reset | sigflow worker peak MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
    ])
