"""The FAISS vector store: passages, their embeddings and an index, saved as a directory with a manifest.

Exact `IndexFlatIP` over unit vectors up to `APPROXIMATE_FROM` passages (15k passages answer in under a
millisecond); past that an HNSW graph over the full vectors, whose scores are already exact inner products:
it may miss a neighbour (recall), never misorder the ones it finds."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from pipelines import settings
from pipelines.retrieval.embedder import Embedder, shared_embedder
from pipelines.retrieval.passage import Passage, ScoredPassage, corpus_hash
from pipelines.versioned import FileFormat

log = logging.getLogger(__name__)

# Version 2 names the embedding runtime; a version-1 store was embedded by PyTorch.
VECTOR_STORE = FileFormat("sigflow.vectorstore", 2, "a sigflow vector store")
_VERSION_1_RUNTIME = "torch"
APPROXIMATE_FROM = 100_000
HNSW_NEIGHBOURS = 32  # M: links per vector
HNSW_EF_CONSTRUCTION = 100  # candidates explored per insertion: FAISS's 40 left vector_store_scale's 1M at recall 0.870
HNSW_EF_SEARCH = 128  # candidates explored per query: recall against latency, settable per store


class VectorStoreError(ValueError):
    """A store directory that is missing, damaged, or built for another embedder."""


class VectorStore:
    """Search passages by meaning. Build with `VectorStore.build(passages)`, or `VectorStore.load(directory)`."""

    def __init__(self, passages: list[Passage], index: faiss.Index, embedder: Embedder, corpus: str):
        self.passages = passages
        self.index = index
        self.embedder = embedder
        self.corpus_hash = corpus

    @classmethod
    def build(cls, passages: Sequence[Passage], *, embedder: Embedder | None = None,
              approximate: bool | None = None, progress: bool = True) -> VectorStore:
        """Embed (or reuse cached embeddings of) `passages` and index them."""
        if not passages:
            raise VectorStoreError("cannot build a vector store from no passages")
        embedder = embedder or shared_embedder()
        corpus = corpus_hash(passages)
        vectors = _cached_embeddings(passages, embedder, corpus, progress)
        return cls._indexed(passages, vectors, embedder, approximate, corpus)

    @classmethod
    def from_vectors(cls, passages: Sequence[Passage], vectors: np.ndarray, *, embedder: Embedder | None = None,
                     approximate: bool | None = None) -> VectorStore:
        """A store over already-embedded passages (unit vectors, one row per passage)."""
        if len(passages) != len(vectors):
            raise VectorStoreError(f"{len(passages)} passages but {len(vectors)} vectors")
        return cls._indexed(passages, vectors, embedder or shared_embedder(), approximate, corpus_hash(passages))

    @classmethod
    def _indexed(cls, passages: Sequence[Passage], vectors: np.ndarray, embedder: Embedder,
                 approximate: bool | None, corpus: str) -> VectorStore:
        use_hnsw = len(passages) >= APPROXIMATE_FROM if approximate is None else approximate
        return cls(list(passages), _index(vectors, use_hnsw), embedder, corpus)

    def search(self, query: str, k: int = 3) -> list[ScoredPassage]:
        return self.search_batch([query], k)[0]

    def search_batch(self, queries: Sequence[str], k: int = 3) -> list[list[ScoredPassage]]:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        return self.search_vectors(self.embedder.encode(queries), k)

    def search_vectors(self, vectors: np.ndarray, k: int) -> list[list[ScoredPassage]]:
        """The `k` nearest passages to each already-embedded query (unit vectors, one row per query)."""
        scores, ids = self.index.search(vectors, k)
        return [[ScoredPassage(self.passages[i], float(s)) for s, i in zip(row_scores, row_ids, strict=True) if i >= 0]
                for row_scores, row_ids in zip(scores, ids, strict=True)]

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(directory / "index.faiss"))
        with (directory / "passages.jsonl").open("w", encoding="utf-8") as out:
            for passage in self.passages:
                out.write(json.dumps(asdict(passage), ensure_ascii=False) + "\n")
        manifest = {**VECTOR_STORE.header(), "embedder": self.embedder.name,
                    "embedder_runtime": self.embedder.runtime, "dimension": self.index.d,
                    "count": len(self.passages), "corpus_hash": self.corpus_hash,
                    "index": type(self.index).__name__}
        (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, embedder: Embedder | None = None) -> VectorStore:
        """Load a saved store, checking its manifest against its files and the embedder in use. Without an
        embedder, queries are embedded by the runtime that embedded the passages."""
        directory = Path(directory)
        manifest = _read_manifest(directory)
        runtime = manifest.get("embedder_runtime", _VERSION_1_RUNTIME)
        embedder = embedder or shared_embedder(runtime)
        built_with, queried_with = (manifest.get("embedder"), runtime), (embedder.name, embedder.runtime)
        if built_with != queried_with:
            raise VectorStoreError(f"{directory} was built with the embedder {built_with[0]!r} on {built_with[1]}, "
                                   f"this program embeds queries with {queried_with[0]!r} on {queried_with[1]}: "
                                   f"rebuild the store")
        passages = _read_passages(directory / "passages.jsonl")
        try:
            index = faiss.read_index(str(directory / "index.faiss"))
        except RuntimeError as error:
            raise VectorStoreError(f"{directory / 'index.faiss'} cannot be read: {error}") from error
        counts = {"manifest": manifest.get("count"), "passages.jsonl": len(passages), "index.faiss": index.ntotal}
        if len(set(counts.values())) != 1:
            raise VectorStoreError(f"{directory} is inconsistent (truncated or mixed files): passage counts {counts}")
        if index.d != manifest.get("dimension") or corpus_hash(passages) != manifest.get("corpus_hash"):
            raise VectorStoreError(f"{directory}: the index or passages do not match the manifest: rebuild the store")
        return cls(passages, index, embedder, manifest["corpus_hash"])

    @property
    def ef_search(self) -> int | None:
        """Candidates an approximate store explores per query (saved with it); None for an exact store."""
        return self.index.hnsw.efSearch if isinstance(self.index, faiss.IndexHNSW) else None

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        if not isinstance(self.index, faiss.IndexHNSW):
            raise VectorStoreError("an exact store has no efSearch to set: build it with approximate=True")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"ef_search must be a whole number of at least 1, got {value!r}")
        self.index.hnsw.efSearch = value

    def __len__(self) -> int:
        return len(self.passages)

    def __deepcopy__(self, memo: dict) -> VectorStore:
        return self  # read-only once built: programs copied by optimizers share it


def _index(vectors: np.ndarray, approximate: bool) -> faiss.Index:
    if approximate:
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


def _cached_embeddings(passages: Sequence[Passage], embedder: Embedder, corpus: str, progress: bool) -> np.ndarray:
    """Embeddings keyed by corpus and embedder, as .npy (loaded without pickle)."""
    path = settings.cache_dir() / "embeddings" / f"{embedder.name}-{embedder.runtime}-{corpus}.npy"
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape[0] == len(passages):
            return vectors
    except (OSError, ValueError):
        pass
    log.info("embedding %d passages with %s on %s", len(passages), embedder.name, embedder.runtime)
    vectors = embedder.encode([f"{p.title}\n{p.text}" for p in passages], progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npy")
    np.save(partial, vectors, allow_pickle=False)
    partial.replace(path)
    return vectors


def _read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except FileNotFoundError:
        raise VectorStoreError(f"{directory} is not a vector store (no manifest.json); build one with "
                               f"`sigflow index build`") from None
    except (OSError, json.JSONDecodeError) as error:
        raise VectorStoreError(f"{directory / 'manifest.json'} cannot be read: {error}") from error
    VECTOR_STORE.check(manifest, str(directory / "manifest.json"), VectorStoreError)
    return manifest


def _read_passages(path: Path) -> list[Passage]:
    try:
        with path.open(encoding="utf-8") as lines:
            return [Passage(**json.loads(line)) for line in lines if line.strip()]
    except FileNotFoundError:
        raise VectorStoreError(f"{path} is missing") from None
    except (OSError, json.JSONDecodeError, TypeError) as error:
        raise VectorStoreError(f"{path} is damaged: {error}") from error
