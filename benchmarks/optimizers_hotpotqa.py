"""`rag` (k=3, chain of thought) on HotpotQA with the embedded model: `BootstrapFewShot` and `MIPRO` light,
each under a stated budget of uncached LM calls, compiled on the first 100 questions of `train.jsonl` and
validated on the first 50 dev questions. HotpotQA-normalized EM and token F1 before and after, the LM calls
spent (optimizer and evaluation apart) and the time. Each measurement starts with an empty LM cache, so a
program MIPRO already scored on all of dev is evaluated from its cache, with no calls."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import checkpointed, fresh_cache_dir
from benchmarks.retrieval_hotpotqa import DATA_DIR
from pipelines import LM, Budget, context, evaluate, track_usage
from pipelines.datasets import load_dataset
from pipelines.optimizers import MIPRO, BootstrapFewShot
from pipelines.optimizers.presets import SearchSettings
from pipelines.programs import program_spec
from pipelines.programs.rag import rag_metrics

NUM_THREADS = 4


@dataclass(frozen=True)
class Plan:
    train: int
    val: int
    budgets: dict[str, int]
    settings: dict[str, dict[str, int]] = field(default_factory=dict)  # per method, over its defaults
    isolated: bool = True  # each measurement from an empty LM cache


FULL = Plan(train=100, val=50, budgets={"bootstrap": 30, "mipro": 200})
# Quick mode smoke-tests both optimizers in under a minute, where a chain-of-thought answer takes 10 to 20 s:
# one question, no labeled demos, MIPRO over the original program only, and one LM cache for the whole run,
# so the evaluations a method repeats from another are hits.
QUICK = Plan(train=4, val=1, budgets={"bootstrap": 1, "mipro": 2}, isolated=False, settings={
    "bootstrap": {"max_bootstrapped_demos": 1, "max_labeled_demos": 0},
    "mipro": {"num_candidates": 1, "num_trials": 1, "minibatch_size": 1, "max_bootstrapped_demos": 0,
              "max_labeled_demos": 0}})


def _scores(program, dev: list) -> dict[str, Any]:
    metrics = rag_metrics()
    result = evaluate(program, dev, metrics["f1"], num_threads=NUM_THREADS, description=None)
    return {"f1": result.score, "exact_match": result.rescore(metrics["exact_match"]).score,
            "lm_calls": result.usage.calls, "parse_failures": result.usage.parse_failures}


def _optimize(method: str, program, train: list, dev: list, plan: Plan) -> dict[str, Any]:
    budget = Budget(max_calls=plan.budgets[method])
    f1 = rag_metrics()["f1"]
    settings = plan.settings.get(method, {})
    optimizer = (BootstrapFewShot(f1, num_threads=NUM_THREADS, budget=budget, **settings) if method == "bootstrap"
                 else MIPRO(f1, settings=SearchSettings.preset("light", **settings), num_threads=NUM_THREADS,
                            budget=budget))
    with _cache(plan)(), context(lm=LM()):
        started = time.perf_counter()
        with track_usage() as usage:
            compiled = optimizer.compile(program, train, *([dev] if method == "mipro" else []))
        compile_seconds = time.perf_counter() - started
        after = _scores(compiled, dev)
    return {"method": method, "budget_calls": plan.budgets[method], "optimizer_calls": usage.total.calls,
            "stopped_by_budget": optimizer.stopped_by_budget_, "compile_seconds": compile_seconds,
            "after": after, "seconds": time.perf_counter() - started,
            "demos": len(compiled.generate.predict.demos),
            "instruction": compiled.generate.predict.signature.instructions}


def run(quick: bool) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    dataset = load_dataset("hotpotqa", DATA_DIR)
    train, dev = dataset.split("train", plan.train), dataset.split("dev", plan.val)
    program = program_spec("rag").build(dataset)
    settings = {"train": len(train), "dev": len(dev), "budgets": plan.budgets}
    with (contextlib.nullcontext() if plan.isolated else fresh_cache_dir()):
        before = checkpointed("optimizers_hotpotqa", "zero-shot", settings, lambda: _baseline(program, dev, plan),
                              quick)
        methods = [checkpointed("optimizers_hotpotqa", method, settings,
                                lambda method=method: _optimize(method, program, train, dev, plan), quick)
                   for method in plan.budgets]
    return {"train": len(train), "dev": len(dev), "before": before, "methods": methods}


def _cache(plan: Plan) -> Callable[[], contextlib.AbstractContextManager]:
    """A fresh LM cache per measurement, or the run's shared one."""
    return fresh_cache_dir if plan.isolated else contextlib.nullcontext


def _baseline(program, dev: list, plan: Plan) -> dict[str, Any]:
    with _cache(plan)(), context(lm=LM()):
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
        *rows, "",
        *(f"{m['method']} returned {m['demos']} demos and the instruction \"{m['instruction']}\"."
          for m in result["methods"]),
    ])
