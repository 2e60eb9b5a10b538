"""Retrieval over the full HotpotQA corpus (14,766 passages, `../shared/data/hotpotqa`) with MiniLM and an
exact FAISS index: the build from scratch (embedding included, no cached embeddings), query latency for
single queries, and recall@3 and @5 of the gold titles on the 300 dev questions, for "any gold title" and
"both gold titles". The store is then saved where `rag` looks for it."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import fresh_cache_dir
from pipelines.datasets import load_dataset
from pipelines.retrieval.indexes import index_dir
from pipelines.retrieval.store import VectorStore

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "hotpotqa"


def run(quick: bool) -> dict[str, Any]:
    dataset = load_dataset("hotpotqa", DATA_DIR)
    corpus = dataset.corpus[:500] if quick else dataset.corpus
    started = time.perf_counter()
    with fresh_cache_dir():
        store = VectorStore.build(corpus)
    build_seconds = time.perf_counter() - started
    if not quick:
        store.save(index_dir(dataset.name, corpus))
    questions = dataset.split("dev", 20 if quick else None)
    latencies, recall = [], {3: {"any": 0, "both": 0}, 5: {"any": 0, "both": 0}}
    for example in questions:
        started = time.perf_counter()
        hits = store.search(example["question"], 5)
        latencies.append(time.perf_counter() - started)
        for k in (3, 5):
            found = set(example["gold_titles"]) & {hit.passage.title for hit in hits[:k]}
            recall[k]["any"] += bool(found)
            recall[k]["both"] += len(found) == len(set(example["gold_titles"]))
    return {
        "passages": len(corpus), "questions": len(questions), "build_seconds": round(build_seconds, 1),
        "query_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "recall": {f"@{k}": {mode: round(count / len(questions), 3) for mode, count in modes.items()}
                   for k, modes in recall.items()},
    }


def report(result: dict[str, Any]) -> str:
    recall = result["recall"]
    return "\n".join([
        "| passages | build (embed + index) s | query p50 ms | recall@3 any | recall@3 both | recall@5 any | "
        "recall@5 both |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {result['passages']} | {result['build_seconds']} | {result['query_ms_p50']} | {recall['@3']['any']} | "
        f"{recall['@3']['both']} | {recall['@5']['any']} | {recall['@5']['both']} |",
        "",
        f"Over {result['questions']} dev questions; a query's latency includes embedding it.",
    ])
