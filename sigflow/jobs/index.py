"""The job behind `sigflow index build`: a dataset's corpus embedded and saved as a FAISS store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pipelines.datasets import load_dataset
from pipelines.retrieval.indexes import cached_store


def build_index(dataset: str, *, data_dir: str | Path | None = None, out: Path | None = None) -> dict[str, Any]:
    """Build (or load from the cache) the store of `dataset`'s corpus, saved in `out` (default: the cache,
    where `rag` finds it); returns what was indexed."""
    started = time.perf_counter()
    loaded = load_dataset(dataset, data_dir)
    if loaded.corpus is None:
        raise ValueError(f"dataset {dataset!r} has no corpus to index")
    store = cached_store(loaded.store_name, loaded.corpus, out)
    return {"dataset": loaded.name, "passages": len(store), "corpus_hash": store.corpus_hash,
            "seconds": round(time.perf_counter() - started, 2)}
