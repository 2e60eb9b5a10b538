"""The same optimization of `rag` on HotpotQA with the embedded model, once against token F1 and once against
the `answer_correct` judge: BootstrapFewShot (2 bootstrapped + 2 labelled demos, DSPy's setting) compiled on
`train.jsonl`, each from an empty LM cache under the same budget, the judge's calls inside it. Both programs
are scored on dev questions 100 to 300 (the split `hotpotqa_programs` scores on) by EM, F1 and the judge,
with 95% bootstrap intervals. The judge agrees with written labels on only about half of `rag`'s answers
(`judges`), so this shows what an optimizer does with a lenient metric: the demos it accepts."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.harness import checkpointed, fresh_cache_dir
from benchmarks.hotpotqa_programs import BOOTSTRAP, NUM_THREADS
from benchmarks.rag_zero_shot import quick_corpus
from benchmarks.retrieval_hotpotqa import DATA_DIR
from benchmarks.stats import shown, with_interval
from pipelines import LM, Budget, context, evaluate, exact_match, token_f1, track_usage
from pipelines.datasets import load_dataset
from pipelines.evaluation.judges import answer_correct
from pipelines.optimizers import BootstrapFewShot
from pipelines.programs import RAG
from pipelines.retrieval.indexes import cached_store

BUDGET = 400
FIRST_SCORED, SCORED = 100, 200
OPTIMIZED_AGAINST = ("f1", "answer_correct")


def _metric(name: str):
    return token_f1() if name == "f1" else answer_correct("answer")


def _measure(against: str, store, train: list, scored: list, budget: int) -> dict[str, Any]:
    with fresh_cache_dir(), context(lm=LM()):
        started = time.perf_counter()
        with track_usage() as usage:
            optimizer = BootstrapFewShot(_metric(against), num_threads=NUM_THREADS, budget=Budget(max_calls=budget),
                                         **BOOTSTRAP)
            program = optimizer.compile(RAG(store), train)
        compile_seconds = time.perf_counter() - started
        # Judged while it is scored, on the same threads; EM and F1 are string matches of the same answers.
        judged = evaluate(program, scored, answer_correct("answer"), num_threads=NUM_THREADS, description=None)
    scores = {"judge": [item.score for item in judged.results]}
    for name, metric in (("exact_match", exact_match()), ("f1", token_f1())):
        scores[name] = [item.score for item in judged.rescore(metric).results]
    return {"optimized_against": against, "n": judged.n,
            **{name: with_interval(values) for name, values in scores.items()},
            "demos": sum(len(predictor.demos) for _, predictor in program.named_predictors()),
            "optimizer_lm_calls": usage.total.calls, "optimizer_judge_calls": usage.total.judge_calls,
            "evaluation_lm_calls": judged.usage.calls, "evaluation_judge_calls": judged.usage.judge_calls,
            "unreadable": judged.usage.parse_failures, "compile_seconds": compile_seconds,
            "seconds": time.perf_counter() - started, "report": optimizer.report()}


def run(quick: bool) -> dict[str, Any]:
    dataset = load_dataset("hotpotqa", DATA_DIR)
    dev = dataset.split("dev")
    train = dataset.split("train", 4 if quick else None)
    scored = dev[FIRST_SCORED:FIRST_SCORED + (1 if quick else SCORED)]
    store = cached_store("hotpotqa-quick", quick_corpus(dataset, scored)) if quick else cached_store(
        "hotpotqa", dataset.corpus)
    budget = 8 if quick else BUDGET
    settings = {"train": len(train), "scored": len(scored), "first_scored": FIRST_SCORED, "budget": budget}
    methods = [checkpointed("judged_optimization", against, settings,
                            lambda against=against: _measure(against, store, train, scored, budget), quick)
               for against in OPTIMIZED_AGAINST]
    return {**settings, "methods": methods}


def report(result: dict[str, Any]) -> str:
    rows = [f"| {m['optimized_against']} | {shown(m['exact_match'])} | {shown(m['f1'])} | {shown(m['judge'])} | "
            f"{m['demos']} | {m['optimizer_lm_calls']} ({m['optimizer_judge_calls']} judge) | "
            f"{m['evaluation_lm_calls']} ({m['evaluation_judge_calls']} judge) | {m['unreadable']} | "
            f"{m['seconds']:.0f} |" for m in result["methods"]]
    return "\n".join([
        f"BootstrapFewShot on `rag`, train {result['train']}, budget {result['budget']} LM calls (judge calls "
        f"included); scored on dev[{result['first_scored']}:{result['first_scored'] + result['scored']}].", "",
        "| optimized against | EM [95% CI] | F1 [95% CI] | answer_correct judge [95% CI] | demos | "
        "optimizer LM calls | evaluation LM calls | unreadable | seconds |",
        "|---|---|---|---|---:|---:|---:|---:|---:|", *rows])
