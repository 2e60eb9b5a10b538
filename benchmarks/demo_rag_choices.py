"""What `sigflow demo`'s RAG step could choose between: the shipped `rag` over all 2,225 BBC articles with
chain of thought and answering directly, zero-shot and with demos (each question's nearest training
questions with their labels, or BootstrapFewShot's), on sigflow's own BBC questions. The demo validates on
its first 20 dev questions, so every score here is on questions it never validates on, with a 95% bootstrap
interval: the 60 held-out `test` questions (other articles, never chosen on), or dev[20:40] for a result stored
before they existed; the line above the table says which."""

from __future__ import annotations

from typing import Any

from benchmarks import hotpotqa_programs
from benchmarks.harness import checkpointed
from benchmarks.hotpotqa_programs import OPTIMIZER_BUDGET, Plan, builder, measure
from pipelines.datasets import load_dataset
from pipelines.datasets.bbc import small_corpus
from pipelines.retrieval.indexes import cached_store

DEMO_VALIDATION = 20  # the demo's validation questions: dev[:20]
METHODS = ("rag", "rag-direct", "rag-direct+knn", "rag+knn", "rag+bootstrap")
FULL = Plan(train=None, choose=DEMO_VALIDATION, score=60, budget=OPTIMIZER_BUDGET, methods=METHODS)
QUICK = Plan(train=4, choose=1, score=1, budget=6, quick=True, methods=("rag-direct", "rag-direct+knn"))
QUICK_EXTRA_PASSAGES = 60


def run(quick: bool) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    bbc = load_dataset("bbc")
    train, choose = bbc.split("train", plan.train), bbc.split("dev", plan.choose)
    scored = bbc.split("test", plan.score)
    store = (cached_store("bbc-quick", small_corpus(bbc, QUICK_EXTRA_PASSAGES, ("train", "dev", "test"))) if quick
             else cached_store("bbc", bbc.corpus))
    settings = {"train": len(train), "choose": len(choose), "score": len(scored), "budget": plan.budget}
    methods = [checkpointed("demo_rag_choices", method, settings,
                            lambda method=method: measure(method, builder(method, store), train, choose, scored,
                                                          plan), quick) for method in plan.methods]
    return {**settings, "scored_on": f"the first {len(scored)} held-out test questions", "methods": methods}


def report(result: dict[str, Any]) -> str:
    return "BBC: " + hotpotqa_programs.report(result)
