"""Embedding throughput of MiniLM on this machine's CPU by batch size: the first 800 passages of the BBC
corpus (articles split as the index splits them), each batch size timed on the same texts after a warm-up.
The store embeds in batches of `BATCH_SIZE`: short batches pad less, so they can be faster on few cores."""

from __future__ import annotations

import time
from typing import Any

from pipelines.datasets.bbc import passages
from pipelines.retrieval.embedder import BATCH_SIZE, shared_embedder

BATCH_SIZES = (8, 16, 32, 64)


def run(quick: bool) -> dict[str, Any]:
    texts = [f"{passage.title}\n{passage.text}" for passage in passages()[:96 if quick else 800]]
    embedder = shared_embedder()
    embedder.encode(texts[:32])
    rates = {}
    for batch_size in BATCH_SIZES:
        started = time.perf_counter()
        embedder.encode(texts, batch_size=batch_size)
        rates[str(batch_size)] = len(texts) / (time.perf_counter() - started)
    return {"passages": len(texts), "default_batch_size": BATCH_SIZE, "passages_per_second": rates}


def report(result: dict[str, Any]) -> str:
    rates = result["passages_per_second"]
    fastest = max(rates, key=rates.get)
    rows = [f"| {size}{' (default)' if int(size) == result['default_batch_size'] else ''} | {rate:.1f} |"
            for size, rate in rates.items()]
    return "\n".join([
        f"{result['passages']} passages.", "",
        "| batch size | passages per second |", "|---:|---:|", *rows, "",
        f"Fastest here: batches of {fastest}.",
    ])
