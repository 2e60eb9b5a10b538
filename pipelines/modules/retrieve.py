"""`Retrieve`: the k passages of a vector store closest to a query, as a module programs compose."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.lm import tracing
from pipelines.lm.usage import Usage, record
from pipelines.modules.module import Module
from pipelines.primitives import Prediction

if TYPE_CHECKING:  # a store is passed in: declaring a program loads no FAISS
    from pipelines.retrieval.store import VectorStore


class Retrieve(Module):
    """Returns `passages` (texts), `passage_ids`, `titles` and `scores`, best first. Each search is counted
    in usage (`retrievals`) and is a RETRIEVER span in an active MLflow trace."""

    def __init__(self, store: VectorStore | None = None, k: int = 3):
        self.store = store
        self.k = k

    def forward(self, query: str, k: int | None = None) -> Prediction:
        if self.store is None:
            raise ValueError("Retrieve has no vector store: pass one, e.g. Retrieve(VectorStore.load(path))")
        k = k or self.k
        with tracing.span("Retrieve", "RETRIEVER", {"query": query, "k": k}) as opened:
            found = self.store.search(query, k)
            if opened is not None:
                opened.set_outputs([{"id": hit.passage.id, "title": hit.passage.title, "score": hit.score}
                                    for hit in found])
        record("retrieval", Usage(retrievals=1))
        return Prediction(
            passages=[hit.passage.text for hit in found],
            passage_ids=[hit.passage.id for hit in found],
            titles=[hit.passage.title for hit in found],
            scores=[hit.score for hit in found],
        )
