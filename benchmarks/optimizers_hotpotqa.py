"""`rag` (k=3, chain of thought) on HotpotQA with the embedded model: `BootstrapFewShot` and `MIPRO` light,
each under a stated budget of uncached LM calls, compiled on the first 100 questions of `train.jsonl` and
validated on the first 50 dev questions. HotpotQA-normalized EM and token F1 before and after, the LM calls
spent (optimizer and evaluation apart) and the time. Each run starts with an empty LM cache."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.harness import checkpointed, fresh_cache_dir
from benchmarks.retrieval_hotpotqa import DATA_DIR
from pipelines import LM, Budget, context, evaluate, track_usage
from pipelines.datasets import load_dataset
from pipelines.optimizers import MIPRO, BootstrapFewShot
from pipelines.programs import program_spec
from pipelines.programs.rag import rag_metrics

TRAIN, VAL = 100, 50
BUDGETS = {"bootstrap": 30, "mipro": 200}
# Quick mode smoke-tests both optimizers in about a minute: a chain-of-thought answer here takes 10 s or more.
QUICK_TRAIN, QUICK_VAL = 6, 2
QUICK_BUDGETS = {"bootstrap": 2, "mipro": 4}
NUM_THREADS = 4


def _scores(program, dev: list) -> dict[str, Any]:
    metrics = rag_metrics()
    result = evaluate(program, dev, metrics["f1"], num_threads=NUM_THREADS, description=None)
    return {"f1": result.score, "exact_match": result.rescore(metrics["exact_match"]).score,
            "lm_calls": result.usage.calls, "parse_failures": result.usage.parse_failures}


def _optimize(method: str, program, train: list, dev: list, budgets: dict[str, int]) -> dict[str, Any]:
    budget = Budget(max_calls=budgets[method])
    f1 = rag_metrics()["f1"]
    optimizer = (BootstrapFewShot(f1, num_threads=NUM_THREADS, budget=budget) if method == "bootstrap"
                 else MIPRO(f1, auto="light", num_threads=NUM_THREADS, budget=budget))
    with fresh_cache_dir(), context(lm=LM()):
        started = time.perf_counter()
        with track_usage() as usage:
            compiled = optimizer.compile(program, train, *([dev] if method == "mipro" else []))
        compile_seconds = time.perf_counter() - started
        after = _scores(compiled, dev)
    return {"method": method, "budget_calls": budgets[method], "optimizer_calls": usage.total.calls,
            "stopped_by_budget": optimizer.stopped_by_budget_, "compile_seconds": compile_seconds,
            "after": after, "seconds": time.perf_counter() - started,
            "demos": len(compiled.generate.predict.demos),
            "instruction": compiled.generate.predict.signature.instructions}


def run(quick: bool) -> dict[str, Any]:
    dataset = load_dataset("hotpotqa", DATA_DIR)
    train = dataset.split("train", QUICK_TRAIN if quick else TRAIN)
    dev = dataset.split("dev", QUICK_VAL if quick else VAL)
    budgets = QUICK_BUDGETS if quick else BUDGETS
    program = program_spec("rag").build(dataset)
    settings = {"train": len(train), "dev": len(dev), "budgets": budgets}
    before = checkpointed("optimizers_hotpotqa", "zero-shot", settings, lambda: _baseline(program, dev), quick)
    methods = [checkpointed("optimizers_hotpotqa", method, settings,
                            lambda method=method: _optimize(method, program, train, dev, budgets), quick)
               for method in budgets]
    return {"train": len(train), "dev": len(dev), "before": before, "methods": methods}


def _baseline(program, dev: list) -> dict[str, Any]:
    with fresh_cache_dir(), context(lm=LM()):
        started = time.perf_counter()
        return {**_scores(program, dev), "seconds": time.perf_counter() - started}


def report(result: dict[str, Any]) -> str:
    before = result["before"]
    rows = [f"| zero-shot | - | - | {before['exact_match']:.3f} | {before['f1']:.3f} | {before['lm_calls']} | "
            f"{before['seconds']:.0f} |"]
    rows += [f"| {m['method']} | {m['budget_calls']} | {m['optimizer_calls']}"
             f"{' (budget reached)' if m['stopped_by_budget'] else ''} | {m['after']['exact_match']:.3f} | "
             f"{m['after']['f1']:.3f} | {m['after']['lm_calls']} | {m['seconds']:.0f} |" for m in result["methods"]]
    return "\n".join([
        f"Train {result['train']}, dev {result['dev']}.", "",
        "| method | budget (LM calls) | optimizer LM calls | EM | F1 | evaluation LM calls | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
    ])
