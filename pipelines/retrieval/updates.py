"""A store changed by documents added or removed: only passages that are new are embedded, the rest keep
the vectors they have, and the result is the store's next version (saved beside the old one, `store.save`).

A document is the passages that share its id (`document_id`). Adding a document whose passages are the
same as the stored ones changes nothing, or only its groups; other text replaces the stored document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipelines.retrieval.documents import (
    Document,
    DocumentError,
    document_hash,
    document_id,
    positions_by_document,
    read_documents,
)
from pipelines.retrieval.passage import Passage
from pipelines.retrieval.store import MANIFEST, VectorStore, VectorStoreError


@dataclass(frozen=True)
class StoreUpdate:
    """What a change did, by document id, and how many passages it embedded."""

    version: int
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    regrouped: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded_passages: int = 0
    passages: int = 0

    def summary(self) -> str:
        counts = {name: len(getattr(self, name)) for name in ("added", "replaced", "regrouped", "unchanged", "removed")}
        done = ", ".join(f"{count} {name}" for name, count in counts.items() if count) or "nothing changed"
        return (f"store version {self.version}: {done}; {self.embedded_passages} passages embedded, "
                f"{self.passages} in all")


def with_documents(store: VectorStore, documents: Sequence[Document]) -> tuple[VectorStore, StoreUpdate]:
    """`store` with `documents` added (or replacing those of the same id); the store itself when none of
    them changes anything."""
    stored = positions_by_document(store.passages)
    kept = {name: list(positions) for name, positions in stored.items()}
    fresh: list[Passage] = []
    report: dict[str, list[str]] = {"added": [], "replaced": [], "regrouped": [], "unchanged": []}
    regrouped: dict[str, list[Passage]] = {}
    for document in documents:
        passages = document.passages()
        if not passages:
            raise VectorStoreError(f"document {document.id!r} ({document.source or 'no file'}) holds no text")
        old = [store.passages[position] for position in stored.get(document.id, [])]
        if not old:
            report["added"].append(document.id)
            fresh += passages
        elif document_hash(old) != document_hash(passages):
            report["replaced"].append(document.id)
            del kept[document.id]
            fresh += passages
        elif [p.metadata for p in old] != [p.metadata for p in passages]:
            report["regrouped"].append(document.id)
            regrouped[document.id] = passages
        else:
            report["unchanged"].append(document.id)
    if not fresh and not regrouped:
        return store, StoreUpdate(store.version, unchanged=report["unchanged"], passages=len(store))
    vectors = store.embedder.encode([f"{p.title}\n{p.text}" for p in fresh]) if fresh else None
    updated = _rebuilt(store, kept, regrouped, fresh, vectors)
    return updated, StoreUpdate(updated.version, **report, embedded_passages=len(fresh), passages=len(updated))


def without_documents(store: VectorStore, document_ids: Sequence[str]) -> tuple[VectorStore, StoreUpdate]:
    """`store` without the passages of `document_ids`; an id the store does not hold is refused."""
    stored = positions_by_document(store.passages)
    unknown = sorted(set(document_ids) - set(stored))
    if unknown:
        raise VectorStoreError(f"the store holds no document {', '.join(map(repr, unknown))}")
    kept = {name: positions for name, positions in stored.items() if name not in set(document_ids)}
    if not kept:
        raise VectorStoreError("removing every document would leave an empty store: build a new one instead")
    updated = _rebuilt(store, kept, {}, [], None)
    return updated, StoreUpdate(updated.version, removed=sorted(set(document_ids)), passages=len(updated))


def _rebuilt(store: VectorStore, kept: dict[str, list[int]], regrouped: dict[str, list[Passage]],
             fresh: list[Passage], fresh_vectors: np.ndarray | None) -> VectorStore:
    """The next version: kept passages (regrouped ones with their new metadata) with their vectors, then the
    fresh ones; as exact or approximate as before."""
    order = [position for positions in kept.values() for position in positions]
    passages = [_regrouped(store.passages[position], regrouped) for position in order]
    vectors = store.vectors()[order] if order else np.zeros((0, store.index.d), dtype="float32")
    if fresh:
        passages += fresh
        vectors = np.vstack([vectors, fresh_vectors.astype("float32")])
    updated = VectorStore.from_vectors(passages, vectors, embedder=store.embedder, approximate=store.approximate,
                                       version=store.version + 1)
    if store.approximate:
        updated.ef_search = store.ef_search
    return updated


def _regrouped(passage: Passage, regrouped: dict[str, list[Passage]]) -> Passage:
    replacement = regrouped.get(document_id(passage))
    if replacement is None:
        return passage
    return next(new for new in replacement if new.id == passage.id)


def add_files(directory: str | Path, paths: Sequence[str | Path], groups: Sequence[str] = ()) -> StoreUpdate:
    """Add the documents in `paths` (files or directories, `documents.read_documents`) to the store saved in
    `directory`, creating it if there is none, and save the new version there."""
    documents = read_documents(paths, groups)
    if not documents:
        raise DocumentError(f"no documents in {', '.join(map(str, paths))}")
    if not (Path(directory) / MANIFEST).exists():
        created = VectorStore.build([passage for document in documents for passage in document.passages()],
                                    progress=False)
        created.save(directory)
        return StoreUpdate(created.version, added=[document.id for document in documents],
                           embedded_passages=len(created), passages=len(created))
    updated, report = with_documents(VectorStore.load(directory), documents)
    if report.added or report.replaced or report.regrouped:
        updated.save(directory)
    return report


def remove_documents(directory: str | Path, document_ids: Sequence[str]) -> StoreUpdate:
    """Remove `document_ids` from the store saved in `directory` and save the new version there."""
    updated, report = without_documents(VectorStore.load(directory), document_ids)
    updated.save(directory)
    return report
