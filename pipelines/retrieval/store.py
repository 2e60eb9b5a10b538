"""The FAISS vector store: passages, their embeddings and an index, saved as a directory with a manifest.

Exact `IndexFlatIP` over unit vectors up to `APPROXIMATE_FROM` passages (15k passages answer in under a
millisecond); past that an HNSW graph over the full vectors, whose scores are already exact inner products:
it may miss a neighbour (recall), never misorder the ones it finds."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from pipelines import settings
from pipelines.retrieval.documents import document_hash, positions_by_document
from pipelines.retrieval.embedder import Embedder, shared_embedder
from pipelines.retrieval.filters import Filter, Normalized, matches, with_caller_groups
from pipelines.retrieval.passage import Passage, ScoredPassage, corpus_hash
from pipelines.versioned import FileFormat

log = logging.getLogger(__name__)

# Version 2 names the embedding runtime; a version-1 store was embedded by PyTorch. Version 3 keeps the
# files of each store version in a directory of their own that the manifest names, and the store version.
VECTOR_STORE = FileFormat("sigflow.vectorstore", 3, "a sigflow vector store")
MANIFEST = "manifest.json"
FILES = ("index.faiss", "passages.jsonl")
VERSION_FILES = re.compile(r"v\d+-[0-9a-f]{8}")
PENDING_MANIFEST = re.compile(r"manifest\.json\.v\d+-[0-9a-f]{8}\.partial")
_VERSION_1_RUNTIME = "torch"
APPROXIMATE_FROM = 100_000
HNSW_NEIGHBOURS = 32  # M: links per vector
HNSW_EF_CONSTRUCTION = 100  # candidates explored per insertion: FAISS's 40 left vector_store_scale's 1M at recall 0.870
HNSW_EF_SEARCH = 128  # candidates explored per query: recall against latency, settable per store


class VectorStoreError(ValueError):
    """A store directory that is missing, damaged, or built for another embedder."""


class VectorStore:
    """Search passages by meaning. Build with `VectorStore.build(passages)`, or `VectorStore.load(directory)`;
    `version` counts the changes made to it (`updates`)."""

    def __init__(self, passages: list[Passage], index: faiss.Index, embedder: Embedder, corpus: str,
                 version: int = 1):
        self.passages = passages
        self.index = index
        self.embedder = embedder
        self.corpus_hash = corpus
        self.version = version
        self._selections: dict[Normalized, np.ndarray] = {}

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
                     approximate: bool | None = None, version: int = 1) -> VectorStore:
        """A store over already-embedded passages (unit vectors, one row per passage)."""
        if len(passages) != len(vectors):
            raise VectorStoreError(f"{len(passages)} passages but {len(vectors)} vectors")
        return cls._indexed(passages, vectors, embedder or shared_embedder(), approximate, corpus_hash(passages),
                            version)

    @classmethod
    def _indexed(cls, passages: Sequence[Passage], vectors: np.ndarray, embedder: Embedder,
                 approximate: bool | None, corpus: str, version: int = 1) -> VectorStore:
        use_hnsw = len(passages) >= APPROXIMATE_FROM if approximate is None else approximate
        return cls(list(passages), _index(vectors, use_hnsw), embedder, corpus, version)

    @property
    def approximate(self) -> bool:
        return isinstance(self.index, faiss.IndexHNSW)

    def vectors(self) -> np.ndarray:
        """The passages' embeddings, one row per passage, as the index holds them."""
        return self.index.reconstruct_n(0, self.index.ntotal)

    def search(self, query: str, k: int = 3, filter: Filter | None = None) -> list[ScoredPassage]:
        return self.search_batch([query], k, filter)[0]

    def search_batch(self, queries: Sequence[str], k: int = 3, filter: Filter | None = None
                     ) -> list[list[ScoredPassage]]:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        return self.search_vectors(self.embedder.encode(queries), k, filter)

    def search_vectors(self, vectors: np.ndarray, k: int, filter: Filter | None = None
                       ) -> list[list[ScoredPassage]]:
        """The `k` nearest passages to each already-embedded query (unit vectors, one row per query) among
        those `filter` allows (`filters`), and only those the caller's groups may see when a block set them.
        FAISS skips the others during the search, so `k` allowed passages come back whenever there are."""
        chosen = with_caller_groups(filter)
        params = None
        if chosen:
            allowed = self._allowed(chosen)
            if not len(allowed):
                return [[] for _ in range(len(vectors))]
            params = self._selecting(allowed)
        scores, ids = self.index.search(vectors, k, params=params)
        return [[ScoredPassage(self.passages[i], float(s)) for s, i in zip(row_scores, row_ids, strict=True) if i >= 0]
                for row_scores, row_ids in zip(scores, ids, strict=True)]

    def _allowed(self, chosen: Normalized) -> np.ndarray:
        """The positions of the passages `chosen` allows, cached per filter."""
        if chosen not in self._selections:
            self._selections[chosen] = np.array([i for i, passage in enumerate(self.passages)
                                                 if matches(passage, chosen)], dtype="int64")
        return self._selections[chosen]

    def _selecting(self, allowed: np.ndarray) -> faiss.SearchParameters:
        selector = faiss.IDSelectorBatch(allowed)
        if isinstance(self.index, faiss.IndexHNSW):
            return faiss.SearchParametersHNSW(sel=selector, efSearch=self.index.hnsw.efSearch)
        return faiss.SearchParameters(sel=selector)

    def save(self, directory: str | Path) -> Path:
        """Write this version's files into a new directory inside `directory`, then switch the manifest to it
        in one atomic rename, then remove the other versions' files: a crash before the switch leaves the
        previous version whole and loadable."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = directory / f"v{self.version}-{uuid.uuid4().hex[:8]}"
        files.mkdir()
        faiss.write_index(self.index, str(files / "index.faiss"))
        with (files / "passages.jsonl").open("w", encoding="utf-8") as out:
            for passage in self.passages:
                out.write(json.dumps(asdict(passage), ensure_ascii=False) + "\n")
        manifest = {**VECTOR_STORE.header(), "store_version": self.version, "files": files.name,
                    "embedder": self.embedder.name, "embedder_runtime": self.embedder.runtime,
                    "dimension": self.index.d, "count": len(self.passages), "corpus_hash": self.corpus_hash,
                    "index": type(self.index).__name__, "documents": document_summary(self.passages)}
        pending = directory / f"{MANIFEST}.{files.name}.partial"
        pending.write_text(json.dumps(manifest, indent=2) + "\n")
        _switch(pending, directory / MANIFEST)
        _remove_all_but(directory, files.name)
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
        files = directory / manifest.get("files", "")
        passages = _read_passages(files / "passages.jsonl")
        try:
            index = faiss.read_index(str(files / "index.faiss"))
        except RuntimeError as error:
            raise VectorStoreError(f"{files / 'index.faiss'} cannot be read: {error}") from error
        counts = {"manifest": manifest.get("count"), "passages.jsonl": len(passages), "index.faiss": index.ntotal}
        if len(set(counts.values())) != 1:
            raise VectorStoreError(f"{directory} is inconsistent (truncated or mixed files): passage counts {counts}")
        if index.d != manifest.get("dimension") or corpus_hash(passages) != manifest.get("corpus_hash"):
            raise VectorStoreError(f"{directory}: the index or passages do not match the manifest: rebuild the store")
        return cls(passages, index, embedder, manifest["corpus_hash"], manifest.get("store_version", 1))

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


def document_summary(passages: Sequence[Passage]) -> dict[str, dict[str, Any]]:
    """Each document's passage count, content hash and groups, as the manifest lists them."""
    grouped = {name: [passages[position] for position in positions]
               for name, positions in positions_by_document(passages).items()}
    return {name: {"passages": len(own), "hash": document_hash(own),
                   "groups": sorted(own[0].metadata.get("groups") or [])}
            for name, own in grouped.items()}


def _switch(pending: Path, manifest: Path) -> None:
    """The one step that makes a saved version current."""
    os.replace(pending, manifest)


def _remove_all_but(directory: Path, current: str) -> None:
    """The files of other versions, left behind by the previous save or by one that crashed, and the
    loose files of a store saved before versions had directories."""
    for child in directory.iterdir():
        if child.name in (current, MANIFEST):
            continue
        if child.is_dir() and VERSION_FILES.fullmatch(child.name):
            shutil.rmtree(child, ignore_errors=True)
        elif child.name in FILES or PENDING_MANIFEST.fullmatch(child.name):
            child.unlink(missing_ok=True)


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
