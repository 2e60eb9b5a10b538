"""Runs benchmarks, stores each result as JSON with the machine it ran on, and rebuilds RESULTS.md."""

from __future__ import annotations

import contextlib
import datetime
import importlib
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any
from unittest import mock

from pipelines import settings

HERE = Path(__file__).parent
RESULTS_DIR = HERE / "results"
RESULTS_MD = HERE / "RESULTS.md"
PARTIAL_DIR = RESULTS_DIR / "partial"
QUICK_RESULTS = RESULTS_DIR / "quick.json"
QUICK_LIMIT_SECONDS = 60

# Name -> module in this package exposing `run(quick: bool) -> dict` and `report(result: dict) -> str`.
BENCHMARKS = {
    "door_overhead": "benchmarks.door_overhead",
    "predict_overhead": "benchmarks.predict_overhead",
    "classify_zero_shot": "benchmarks.classify_zero_shot",
    "retrieval_hotpotqa": "benchmarks.retrieval_hotpotqa",
    "rag_zero_shot": "benchmarks.rag_zero_shot",
    "cli_rerun": "benchmarks.cli_rerun",
    "optimizers_trec": "benchmarks.optimizers_trec",
    "trec_baselines": "benchmarks.trec_baselines",
    "demo_order_trec": "benchmarks.demo_order_trec",
    "optimizers_hotpotqa": "benchmarks.optimizers_hotpotqa",
    "hotpotqa_programs": "benchmarks.hotpotqa_programs",
    "agent": "benchmarks.agent",
    "judges": "benchmarks.judges",
    "judged_optimization": "benchmarks.judged_optimization",
    "serving_load": "benchmarks.serving_load",
    "local_lm_throughput": "benchmarks.local_lm_throughput",
    "sigflow_demo": "benchmarks.sigflow_demo",
    "demo_rag_choices": "benchmarks.demo_rag_choices",
    "distributed_search": "benchmarks.distributed_search",
    "batch_scoring": "benchmarks.batch_scoring",
    "vector_store_scale": "benchmarks.vector_store_scale",
    "embedding_runtime": "benchmarks.embedding_runtime",
    "dspy_mipro_trec": "benchmarks.dspy_mipro_trec",  # last: these need the optional DSPy install
    "dspy_hotpotqa": "benchmarks.dspy_hotpotqa",
}


@contextlib.contextmanager
def fresh_cache_dir() -> Iterator[str]:
    """An empty LM cache for the duration of a measurement; the models stay where they are (they are not a
    cache of answers: the embedding model would be built again). The caller's settings come back after."""
    models = str(settings.model_dir())
    with tempfile.TemporaryDirectory() as directory, \
            mock.patch.dict(os.environ, {"SIGFLOW_CACHE_DIR": directory, "SIGFLOW_MODEL_DIR": models}):
        yield directory


def checkpointed(benchmark: str, part: str, settings: dict[str, Any], measure: Callable[[], dict[str, Any]],
                 quick: bool) -> dict[str, Any]:
    """`measure()`, or the result a previous, interrupted run of the same part with the same settings
    stored: long benchmarks keep their finished parts when a run is cut short. `run` clears them once the
    whole benchmark is stored."""
    if quick:
        return measure()
    settings = json.loads(json.dumps(settings))  # as stored: tuples become lists
    path = PARTIAL_DIR / benchmark / f"{part}.json"
    if path.exists():
        stored = json.loads(path.read_text())
        if stored["settings"] == settings:
            print(f"{benchmark}: reusing the stored {part} result of {stored['date']}", flush=True)
            return stored["result"]
    result = measure()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"settings": settings, "date": _now(), "machine": machine(), "result": result},
                               indent=2) + "\n")
    return result


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    packages = ("llama-cpp-python", "litellm", "mlflow", "torch", "faiss-cpu", "optuna")
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(memory_kb / 1024**2, 1),
        "python": platform.python_version(),
        "packages": {name: metadata.version(name) for name in packages},
    }


def run(names: list[str], quick: bool) -> list[dict[str, Any]]:
    """Run the named benchmarks (all when none is named). A full run stores each result and rebuilds
    RESULTS.md; a quick run stores only how long each took, for the quick-mode table."""
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    results = []
    for name in names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        started = time.perf_counter()
        result = {"benchmark": name, "quick": quick, "date": _now(), "machine": machine(),
                  "result": module.run(quick)}
        result["seconds"] = round(time.perf_counter() - started, 1)
        print(module.report(result["result"]), flush=True)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        if quick:
            _record_quick_run(name, result)
        else:
            (RESULTS_DIR / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
            shutil.rmtree(PARTIAL_DIR / name, ignore_errors=True)
        results.append(result)
    write_results_md()
    return results


def stored(name: str) -> dict[str, Any] | None:
    """The last full result of benchmark `name` with its machine and date, or None if it was never run."""
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _record_quick_run(name: str, result: dict[str, Any]) -> None:
    """Keep the quick run's duration beside the others': quick mode is a promise (each under a minute)."""
    runs = json.loads(QUICK_RESULTS.read_text()) if QUICK_RESULTS.exists() else {}
    runs[name] = {"seconds": result["seconds"], "date": result["date"], "machine": result["machine"]}
    QUICK_RESULTS.write_text(json.dumps(dict(sorted(runs.items())), indent=2) + "\n")
    if result["seconds"] > QUICK_LIMIT_SECONDS:
        print(f"{name}: the quick run took {result['seconds']:.0f} s, over its {QUICK_LIMIT_SECONDS} s",
              flush=True)


def write_results_md() -> None:
    """RESULTS.md from the stored JSON files: every figure with how it was measured and where."""
    sections = ["# Measured results", "",
                "Generated by `python -m benchmarks run` from `benchmarks/results/*.json`: do not edit.", ""]
    for name, module_name in BENCHMARKS.items():
        result = stored(name)
        if result is None:
            continue
        module = importlib.import_module(module_name)
        hardware = result["machine"]
        sections += [
            f"## {name}", "",
            (module.__doc__ or "").strip(), "",
            module.report(result["result"]), "",
            f"Measured {result['date']} on {hardware['cpu']}, {hardware['cores']} cores, "
            f"{hardware['memory_gib']} GiB, Python {hardware['python']}. "
            f"Re-run: `python -m benchmarks run {name}`.", "",
        ]
    sections += _quick_section()
    RESULTS_MD.write_text("\n".join(sections))


def _quick_section() -> list[str]:
    if not QUICK_RESULTS.exists():
        return []
    runs = json.loads(QUICK_RESULTS.read_text())
    rows = [f"| {name} | {run['seconds']:.0f} | {run['date']} |" for name, run in runs.items()]
    return ["## Quick mode", "",
            f"`python -m benchmarks run --quick` runs each benchmark small, to smoke-test it; each should take "
            f"under {QUICK_LIMIT_SECONDS} s once the data is prepared (the indexes built by `sigflow index build`, "
            "the embedded model assembled). How long each took when last run:", "",
            "| benchmark | seconds | run at |", "|---|---:|---|", *rows, ""]
