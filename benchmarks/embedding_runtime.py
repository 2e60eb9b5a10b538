"""MiniLM's weights on PyTorch in float32 (the reference) against OpenVINO in bfloat16 and quantized to int8
(sigflow's default), in the same run: passages per second on the first 800 BBC passages (as the index splits
them, each runtime after a warm-up, in batches of 16 and 32), then the whole HotpotQA corpus (14,766
passages, `../shared/data/hotpotqa`) embedded from nothing by each, with the recall@5 of the gold titles that
each one's store gives on the 300 dev questions, and how closely each runtime's vectors agree with PyTorch's."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import checkpointed
from pipelines.datasets import load_dataset
from pipelines.datasets.bbc import passages
from pipelines.retrieval.embedder import RUNTIMES, Embedder
from pipelines.retrieval.store import VectorStore

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "hotpotqa"
BATCH_SIZES = (16, 32)


def _speed(runtime: str, texts: list[str]) -> dict[str, Any]:
    embedder = Embedder(runtime)
    embedder.encode(texts[:32])
    rates = {}
    for batch_size in BATCH_SIZES:
        started = time.perf_counter()
        embedder.encode(texts, batch_size=batch_size)
        rates[str(batch_size)] = round(len(texts) / (time.perf_counter() - started), 1)
    return {"precision": embedder.precision, "passages_per_second": rates}


def _hotpotqa(runtime: str, quick: bool) -> dict[str, Any]:
    dataset = load_dataset("hotpotqa", DATA_DIR)
    corpus = dataset.corpus[:500] if quick else dataset.corpus
    embedder = Embedder(runtime)
    embedder.encode(["warm up"])
    started = time.perf_counter()
    vectors = embedder.encode([f"{p.title}\n{p.text}" for p in corpus])  # as the store embeds them
    seconds = time.perf_counter() - started
    store = VectorStore.from_vectors(corpus, vectors, embedder=embedder)
    questions = dataset.split("dev", 20 if quick else None)
    found = {"any": 0, "both": 0}
    for example, hits in zip(questions, store.search_batch([q["question"] for q in questions], 5), strict=True):
        gold = set(example["gold_titles"])
        titles = gold & {hit.passage.title for hit in hits}
        found["any"] += bool(titles)
        found["both"] += titles == gold
    return {"passages": len(corpus), "questions": len(questions), "seconds": round(seconds, 1),
            "passages_per_second": round(len(corpus) / seconds, 1),
            "recall_at_5": {mode: round(count / len(questions), 3) for mode, count in found.items()},
            "first_vectors": vectors[:200].tolist()}


def run(quick: bool) -> dict[str, Any]:
    texts = [f"{passage.title}\n{passage.text}" for passage in passages()[:96 if quick else 800]]
    speed = {runtime: _speed(runtime, texts) for runtime in RUNTIMES}
    hotpotqa = {runtime: checkpointed("embedding_runtime", f"hotpotqa-{runtime}", {"quick": quick},
                                      lambda runtime=runtime: _hotpotqa(runtime, quick), quick)
                for runtime in RUNTIMES}
    first = {runtime: np.array(hotpotqa[runtime].pop("first_vectors")) for runtime in RUNTIMES}
    cosines = {runtime: (first[runtime] * first["torch"]).sum(axis=1) for runtime in RUNTIMES if runtime != "torch"}
    return {"bbc_passages": len(texts), "speed": speed, "hotpotqa": hotpotqa,
            "cosine_with_torch": {runtime: {"mean": round(float(value.mean()), 6), "min": round(float(value.min()), 6)}
                                  for runtime, value in cosines.items()}}


def report(result: dict[str, Any]) -> str:
    speed, hotpotqa = result["speed"], result["hotpotqa"]
    reference = hotpotqa["torch"]["passages_per_second"]
    rows = [f"| {runtime} | {speed[runtime]['precision']} | "
            + " | ".join(str(rate) for rate in speed[runtime]["passages_per_second"].values())
            + f" | {hotpotqa[runtime]['seconds']} | {hotpotqa[runtime]['passages_per_second']} | "
            f"**{hotpotqa[runtime]['passages_per_second'] / reference:.2f}x** | "
            f"{hotpotqa[runtime]['recall_at_5']['any']} | {hotpotqa[runtime]['recall_at_5']['both']} |"
            for runtime in ("torch", *(runtime for runtime in RUNTIMES if runtime != "torch"))]
    agreement = "; ".join(f"{runtime} to a cosine of {cosine['mean']} on average ({cosine['min']} at least)"
                          for runtime, cosine in result["cosine_with_torch"].items())
    return "\n".join([
        "| runtime | computes in | "
        + " | ".join(f"BBC ({result['bbc_passages']}) passages/s, batches of {size}" for size in BATCH_SIZES)
        + f" | HotpotQA ({hotpotqa['torch']['passages']}) embed s | passages/s | over torch | recall@5 any | "
          "recall@5 both |",
        "|---|---|" + "---:|" * (len(BATCH_SIZES) + 5),
        *rows,
        "",
        f"Recall over {hotpotqa['torch']['questions']} dev questions. The vectors of the first 200 HotpotQA "
        f"passages agree with PyTorch's: {agreement}.",
    ])
