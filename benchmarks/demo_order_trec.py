"""Why a demo pool shows the nearest example last, next to the call's question: TREC dev questions classified
by the embedded model with the 8 training questions nearest each by both similarities (`KNNFewShot(k=8,
similarity="hybrid")`), in the pool's order, against the same demos with the nearest first. Per order: accuracy
with a 95% bootstrap interval, and how often the answer is the nearest demo's label or the majority label of
the 8 (and how often those are right), so a reader sees whether the model copies the demo beside it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from benchmarks.harness import checkpointed, fresh_cache_dir
from benchmarks.optimizers_trec import predicted_labels
from benchmarks.stats import shown, with_interval
from pipelines import LM, accuracy, context, evaluate
from pipelines.datasets import load_dataset
from pipelines.demo_pool import DemoPool
from pipelines.optimizers import KNNFewShot
from pipelines.programs import Classify

K = 8
ORDERS = ("nearest last", "nearest first")
SIZES = {"train": None, "dev": 150}
QUICK_SIZES = {"train": 12, "dev": 2}


class NearestFirst(DemoPool):
    """The same demos in the opposite order: the nearest example first, farthest from the question."""

    def nearest(self, inputs):
        return list(reversed(super().nearest(inputs)))


def _measure(order: str, train: list, dev: list) -> dict[str, Any]:
    program = KNNFewShot(k=K, similarity="hybrid").compile(Classify(), train)
    pool = program.classify.demo_pool
    if order == "nearest first":
        program.classify.demo_pool = NearestFirst(pool.demos, k=pool.k, keys=pool.keys, similarity=pool.similarity)
    with fresh_cache_dir(), context(lm=LM()):
        result = evaluate(program, dev, accuracy("label"), num_threads=4, description=order)
    answers = predicted_labels(result)
    shown_labels = [[demo.label for demo in pool.nearest({"question": example.question})] for example in dev]
    nearest = [labels[-1] for labels in shown_labels]
    majority = [Counter(labels).most_common(1)[0][0] for labels in shown_labels]
    gold = [example.label for example in dev]
    return {"order": order, "accuracy": with_interval([item.score for item in result.results]),
            "answer_is_nearest": _share(answers, nearest), "answer_is_majority": _share(answers, majority),
            "nearest_is_right": _share(nearest, gold), "majority_is_right": _share(majority, gold)}


def _share(values: list, others: list) -> float:
    return sum(value == other for value, other in zip(values, others, strict=True)) / max(1, len(values))


def run(quick: bool) -> dict[str, Any]:
    sizes = QUICK_SIZES if quick else SIZES
    dataset = load_dataset("trec")
    train, dev = dataset.split("train", sizes["train"]), dataset.split("dev", sizes["dev"])
    settings = {"train": len(train), "dev": len(dev), "k": K}
    orders = [checkpointed("demo_order_trec", order.replace(" ", "-"), settings,
                           lambda order=order: _measure(order, train, dev), quick) for order in ORDERS]
    return {**settings, "orders": orders}


def report(result: dict[str, Any]) -> str:
    rows = [f"| {o['order']} | {shown(o['accuracy'])} | {o['answer_is_nearest']:.3f} | "
            f"{o['answer_is_majority']:.3f} | {o['nearest_is_right']:.3f} | {o['majority_is_right']:.3f} |"
            for o in result["orders"]]
    return "\n".join([
        f"Train {result['train']}, the first {result['dev']} dev questions, {result['k']} demos a call.", "",
        "| order | accuracy | answer = nearest demo's label | answer = majority of the demos | "
        "nearest demo right | majority right |",
        "|---|---|---:|---:|---:|---:|", *rows])
