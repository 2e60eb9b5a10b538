"""The shipped `agent` (ReAct over a BBC article search and SQL on the articles' metadata) with the embedded
model: zero-shot and optimized on the 32 training questions, scored on the 36 dev questions (12 that need
the search, 12 the table, 12 both), with 95% bootstrap intervals. `score` is the answer's F1 when every tool
the question needs was called, else 0; `right tools` is the share of questions where it was. Each method
starts from an empty LM cache."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from benchmarks.harness import checkpointed, fresh_cache_dir
from benchmarks.stats import shown, with_interval
from pipelines import LM, Budget, context, evaluate, track_usage
from pipelines.datasets import load_dataset
from pipelines.datasets.bbc_agent import TOOLS_BY_KIND
from pipelines.modules import Module
from pipelines.optimizers import MIPRO, BootstrapFewShot, KNNFewShot
from pipelines.optimizers.presets import SearchSettings
from pipelines.programs import Agent
from pipelines.programs.agent import agent_metrics, tools_used
from pipelines.retrieval.indexes import cached_store

NUM_THREADS = 4
METRICS = agent_metrics()
OPTIMIZER_BUDGET = 300
METHODS = ("zero-shot", "knn-3", "bootstrap", "mipro")
QUICK_METHODS = ("zero-shot", "knn-3")


def _optimized(method: str, program: Module, train: list, budget_calls: int, quick: bool) -> tuple[Module, dict]:
    score = METRICS["score"]
    budget = Budget(max_calls=budget_calls)
    if method == "knn-3":
        optimizer = KNNFewShot(k=3)
    elif method == "bootstrap":
        optimizer = BootstrapFewShot(score, max_bootstrapped_demos=2, max_labeled_demos=1, num_threads=NUM_THREADS,
                                     budget=budget)
    elif method == "mipro":
        search = {"num_candidates": 2, "num_trials": 1, "minibatch_size": 1} if quick else {}
        optimizer = MIPRO(score, settings=SearchSettings.preset("light", **search), num_threads=NUM_THREADS,
                          budget=budget)
    else:
        return program, {}
    return optimizer.compile(program, train), optimizer.report()


def _measure(method: str, store, train: list, dev: list, budget_calls: int, quick: bool) -> dict[str, Any]:
    with fresh_cache_dir(), context(lm=LM()):
        started = time.perf_counter()
        with track_usage() as usage:
            program, report = _optimized(method, Agent(store), train, budget_calls, quick)
        result = evaluate(program, dev, METRICS["score"], num_threads=NUM_THREADS, description=None)
    rescored = {name: result.rescore(metric) for name, metric in METRICS.items()}
    return {
        "method": method, "n": result.n,
        **{name: with_interval([item.score for item in scored.results]) for name, scored in rescored.items()},
        "score_by_kind": _by_kind(rescored["score"].results), "right_tools_by_kind": _by_kind(
            rescored["right_tools"].results),
        "tools_called": dict(Counter(tool for item in result.results if item.outputs is not None
                                     for tool in tools_used(item.outputs))),
        "unreadable": result.usage.parse_failures, "optimizer_lm_calls": usage.total.calls,
        "evaluation_lm_calls": result.usage.calls, "seconds": time.perf_counter() - started,
        "report": {key: value for key, value in report.items() if key != "proposed_instructions"}}


def _by_kind(results: list) -> dict[str, float]:
    """The mean score of each kind of question (search, sql, both)."""
    kinds = {kind: [item.score for item in results if item.example.kind == kind] for kind in TOOLS_BY_KIND}
    return {kind: sum(scores) / max(1, len(scores)) for kind, scores in kinds.items()}


def run(quick: bool) -> dict[str, Any]:
    dataset = load_dataset("bbc-agent")
    train, dev = dataset.split("train"), dataset.split("dev")
    if quick:
        train, dev = train[:4], [next(example for example in dev if example.kind == "sql")]
        articles = {example.article_id for example in train + dev}
        corpus = [passage for passage in dataset.corpus if passage.metadata["article_id"] in articles]
        store = cached_store("bbc-agent-quick", corpus + dataset.corpus[:100])
    else:
        store = cached_store(dataset.store_name, dataset.corpus)
    budget_calls = 8 if quick else OPTIMIZER_BUDGET
    settings = {"train": len(train), "dev": len(dev), "budget": budget_calls}
    methods = [checkpointed("agent", method, settings,
                            lambda method=method: _measure(method, store, train, dev, budget_calls, quick), quick)
               for method in (QUICK_METHODS if quick else METHODS)]
    return {**settings, "methods": methods}


def report(result: dict[str, Any]) -> str:
    rows = [f"| {m['method']} | {shown(m['score'])} | {shown(m['exact_match'])} | {shown(m['right_tools'])} | "
            f"{_kinds(m['right_tools_by_kind'])} | {_kinds(m['score_by_kind'])} | {m['unreadable']} | "
            f"{m['optimizer_lm_calls']} | {m['evaluation_lm_calls']} | {m['seconds']:.0f} |"
            for m in result["methods"]]
    return "\n".join([
        f"Compiled on {result['train']} training questions, scored on {result['dev']} dev questions; each "
        f"optimizer's budget {result['budget']} LM calls. By kind: search / sql / both.", "",
        "| method | score [95% CI] | EM [95% CI] | right tools [95% CI] | right tools by kind | score by kind | "
        "unreadable | optimizer LM calls | evaluation LM calls | seconds |",
        "|---|---|---|---|---|---|---:|---:|---:|---:|", *rows, "",
        *(f"- {m['method']}: {_ended(m['report'])}" for m in result["methods"] if m["report"])])


def _ended(report: dict[str, Any]) -> str:
    """What an optimizer ended with, in a line: its runs and trials, and whether the budget stopped it."""
    shown_keys = ("program_runs", "trials", "search_score", "proposal_lm_calls", "pool_sizes")
    parts = [f"{key.replace('_', ' ')} {value:.3f}" if isinstance(value, float) else f"{key.replace('_', ' ')} {value}"
             for key, value in report.items() if key in shown_keys]
    return ", ".join(parts + (["stopped by its budget"] if report.get("stopped_by_budget") else []))


def _kinds(values: dict[str, float]) -> str:
    return " / ".join(f"{values[kind]:.2f}" for kind in TOOLS_BY_KIND)
