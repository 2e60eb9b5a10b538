"""Vector stores of named corpora, built once and kept under the cache directory."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pipelines import settings
from pipelines.retrieval.embedder import DEFAULT_RUNTIME
from pipelines.retrieval.passage import Passage, corpus_hash
from pipelines.retrieval.store import VectorStore, VectorStoreError

log = logging.getLogger(__name__)


def index_dir(name: str, passages: Sequence[Passage]) -> Path:
    """Where the cached store of this corpus, embedded by the default runtime, lives."""
    return settings.cache_dir() / "indexes" / f"{name}-{corpus_hash(passages)}-{DEFAULT_RUNTIME}"


def cached_store(name: str, passages: Sequence[Passage], directory: Path | None = None) -> VectorStore:
    """The store for `passages`, loaded from `directory` (default: the cache) or built and saved there."""
    directory = directory or index_dir(name, passages)
    if (directory / "manifest.json").exists():
        try:
            return VectorStore.load(directory)
        except VectorStoreError as error:
            log.warning("rebuilding the %s index: %s", name, error)
    store = VectorStore.build(passages)
    store.save(directory)
    return store
