"""The vector store at three sizes: the 14,766 HotpotQA passages (real MiniLM embeddings, dev questions as
queries), and 100k and 1M synthetic vectors. Each size is indexed both ways the store can: exact
(`IndexFlatIP`) and approximate (HNSW proposing 4k candidates, re-ranked exactly; the store's choice from
100k passages). Build time, single-query latency p50/p99 through `VectorStore.search_vectors`, and the
approximate index's recall@10 against the exact one.

Synthetic vectors are drawn around 2,000 random centres in 384 dimensions, as sentence embeddings cluster
by topic (uniform random vectors would have no neighbours worth the name); queries are fresh draws from the
same mixture. Query embedding is left out: its cost (about 10 ms) does not depend on the store's size."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.datasets import load_dataset
from pipelines.retrieval.embedder import shared_embedder
from pipelines.retrieval.store import Passage, VectorStore

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "hotpotqa"
DIMENSION = 384
CENTRES = 2000
SPREAD = 0.6
QUERIES = 200
K = 10


def run(quick: bool) -> dict[str, Any]:
    sizes = [("synthetic", 2_000), ("synthetic", 20_000)] if quick else [
        ("hotpotqa", None), ("synthetic", 100_000), ("synthetic", 1_000_000)]
    return {"queries": QUERIES // 4 if quick else QUERIES, "k": K,
            "sizes": [_measure(*_vectors(source, size, QUERIES // 4 if quick else QUERIES)) for source, size in sizes]}


def _vectors(source: str, size: int | None, queries: int) -> tuple[str, np.ndarray, np.ndarray]:
    if source == "hotpotqa":
        dataset = load_dataset("hotpotqa", DATA_DIR)
        store = VectorStore.build(dataset.corpus, progress=False)  # embeddings come from the cache when built
        questions = [example["question"] for example in dataset.split("dev", queries)]
        return "hotpotqa", store.index.reconstruct_n(0, store.index.ntotal), shared_embedder().encode(questions)
    rng = np.random.default_rng(0)
    centres = _unit(rng.standard_normal((CENTRES, DIMENSION), dtype=np.float32))

    def draw(count: int) -> np.ndarray:
        chunks = []
        for start in range(0, count, 100_000):  # in chunks: 1M x 384 float32 temporaries add up
            n = min(100_000, count - start)
            noise = rng.standard_normal((n, DIMENSION), dtype=np.float32) * (SPREAD / np.sqrt(DIMENSION))
            chunks.append(_unit(centres[rng.integers(0, CENTRES, n)] + noise))
        return np.concatenate(chunks)

    return "synthetic", draw(size), draw(queries)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _measure(source: str, vectors: np.ndarray, queries: np.ndarray) -> dict[str, Any]:
    passages = [Passage(id=str(index), title="", text="") for index in range(len(vectors))]
    measured: dict[str, Any] = {"source": source, "vectors": len(vectors)}
    answers = {}
    for kind, approximate in (("exact", False), ("approximate", True)):
        started = time.perf_counter()
        store = VectorStore.from_vectors(passages, vectors, approximate=approximate)
        build = time.perf_counter() - started
        latencies, answers[kind] = [], []
        for query in queries:
            started = time.perf_counter()
            hits = store.search_vectors(query[None, :], K)[0]
            latencies.append(time.perf_counter() - started)
            answers[kind].append({hit.passage.id for hit in hits})
        cuts = statistics.quantiles(latencies, n=100)
        measured[kind] = {"build_seconds": round(build, 2), "p50_ms": round(cuts[49] * 1000, 3),
                          "p99_ms": round(cuts[98] * 1000, 3)}
        del store
    measured["approximate"]["recall_at_k"] = round(statistics.mean(
        len(found & truth) / K for found, truth in zip(answers["approximate"], answers["exact"], strict=True)), 4)
    return measured


def report(result: dict[str, Any]) -> str:
    rows = []
    for size in result["sizes"]:
        for kind in ("exact", "approximate"):
            measured = size[kind]
            recall = f"{measured['recall_at_k']:.4f}" if "recall_at_k" in measured else "1 (reference)"
            rows.append(f"| {size['source']} | {size['vectors']:,} | {kind} | {measured['build_seconds']:.2f} | "
                        f"{measured['p50_ms']:.2f} | {measured['p99_ms']:.2f} | {recall} |")
    return "\n".join([
        f"{result['queries']} single queries per row, k={result['k']}; approximate = HNSW (M=32, efSearch=128) "
        f"over 4k candidates re-ranked exactly.", "",
        f"| vectors from | count | index | build s | query p50 ms | query p99 ms | recall@{result['k']} |",
        "|---|---:|---|---:|---:|---:|---:|", *rows])
