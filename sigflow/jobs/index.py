"""The jobs behind `sigflow index`: a dataset's corpus embedded and saved as a FAISS store; documents added
to or removed from a store."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipelines.datasets import load_dataset
from pipelines.retrieval.indexes import cached_store
from pipelines.retrieval.updates import StoreUpdate, add_files, remove_documents


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


def add_to_store(store: Path, paths: Sequence[Path], groups: Sequence[str] = ()) -> dict[str, Any]:
    """Add the documents in `paths` to the store in `store`; returns what changed (`--json`)."""
    started = time.perf_counter()
    return _summary(add_files(store, paths, groups), started)


def remove_from_store(store: Path, document_ids: Sequence[str]) -> dict[str, Any]:
    """Remove `document_ids` from the store in `store`; returns what changed (`--json`)."""
    started = time.perf_counter()
    return _summary(remove_documents(store, document_ids), started)


def _summary(update: StoreUpdate, started: float) -> dict[str, Any]:
    return {**asdict(update), "summary": update.summary(), "seconds": round(time.perf_counter() - started, 2)}
