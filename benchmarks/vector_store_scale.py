"""The vector store at three sizes: the 14,766 HotpotQA passages (real MiniLM embeddings, dev questions as
queries), and 100k and 1M synthetic vectors. Each size is indexed both ways the store can: exact
(`IndexFlatIP`) and approximate (HNSW over the full vectors, its scores exact inner products; the store's
choice from 100k passages). Build time, single-query latency p50/p99 through `VectorStore.search_vectors`, and
the approximate index's recall@10 against the exact one, at the store's efSearch and around it (set through
`VectorStore.ef_search`).

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
from pipelines.retrieval.passage import Passage
from pipelines.retrieval.store import (
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_NEIGHBOURS,
    VectorStore,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "hotpotqa"
DIMENSION = 384
CENTRES = 2000
SPREAD = 0.6
QUERIES = 200
K = 10
EF_SEARCH_SWEEP = tuple(sorted({64, 256, 512, HNSW_EF_SEARCH}))  # the store's own setting among them


def run(quick: bool) -> dict[str, Any]:
    sizes = [("synthetic", 2_000), ("synthetic", 20_000)] if quick else [
        ("hotpotqa", None), ("synthetic", 100_000), ("synthetic", 1_000_000)]
    return {"queries": QUERIES // 4 if quick else QUERIES, "k": K, "hnsw": {
                "neighbours": HNSW_NEIGHBOURS, "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": HNSW_EF_SEARCH},
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
    exact, exact_build = _built(passages, vectors, approximate=False)
    exact_timing, truth = _queried(exact, queries)
    del exact
    approximate, approximate_build = _built(passages, vectors, approximate=True)
    sweep = []
    for ef_search in EF_SEARCH_SWEEP:
        approximate.ef_search = ef_search
        timing, found = _queried(approximate, queries)
        sweep.append({"ef_search": ef_search, **timing, "recall_at_k": _recall(found, truth)})
    store_setting = next(row for row in sweep if row["ef_search"] == HNSW_EF_SEARCH)
    return {"source": source, "vectors": len(vectors), "exact": {"build_seconds": exact_build, **exact_timing},
            "approximate": {"build_seconds": approximate_build, **store_setting}, "ef_search_sweep": sweep}


def _built(passages: list[Passage], vectors: np.ndarray, approximate: bool) -> tuple[VectorStore, float]:
    started = time.perf_counter()
    store = VectorStore.from_vectors(passages, vectors, approximate=approximate)
    return store, round(time.perf_counter() - started, 2)


def _queried(store: VectorStore, queries: np.ndarray) -> tuple[dict[str, float], list[set[str]]]:
    """Single-query latency p50/p99, and the ids each query found."""
    latencies, found = [], []
    for query in queries:
        started = time.perf_counter()
        hits = store.search_vectors(query[None, :], K)[0]
        latencies.append(time.perf_counter() - started)
        found.append({hit.passage.id for hit in hits})
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50_ms": round(cuts[49] * 1000, 3), "p99_ms": round(cuts[98] * 1000, 3)}, found


def _recall(found: list[set[str]], truth: list[set[str]]) -> float:
    return round(statistics.mean(len(ids & true_ids) / K for ids, true_ids in zip(found, truth, strict=True)), 4)


def report(result: dict[str, Any]) -> str:
    hnsw = result["hnsw"]
    rows = []
    for size in result["sizes"]:
        for kind in ("exact", "approximate"):
            measured = size[kind]
            recall = f"{measured['recall_at_k']:.4f}" if "recall_at_k" in measured else "1 (reference)"
            rows.append(f"| {size['source']} | {size['vectors']:,} | {kind} | {measured['build_seconds']:.2f} | "
                        f"{measured['p50_ms']:.2f} | {measured['p99_ms']:.2f} | {recall} |")
    sweep = [f"| {size['vectors']:,} | {row['ef_search']} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | "
             f"{row['recall_at_k']:.4f} |" for size in result["sizes"] for row in size["ef_search_sweep"]]
    return "\n".join([
        f"{result['queries']} single queries per row, k={result['k']}; approximate = HNSW (M={hnsw['neighbours']}, "
        f"efConstruction={hnsw['ef_construction']}, efSearch={hnsw['ef_search']}), its scores exact inner "
        "products.", "",
        f"| vectors from | count | index | build s | query p50 ms | query p99 ms | recall@{result['k']} |",
        "|---|---:|---|---:|---:|---:|---:|", *rows, "",
        "HNSW's efSearch (candidates explored per query) against latency and recall, same queries:", "",
        f"| count | efSearch | query p50 ms | query p99 ms | recall@{result['k']} |",
        "|---:|---:|---:|---:|---:|", *sweep,
    ])
