"""Retrieval: passages embedded with MiniLM and searched with FAISS."""

from pipelines.retrieval.embedder import Embedder
from pipelines.retrieval.passage import Passage, ScoredPassage
from pipelines.retrieval.store import VectorStore, VectorStoreError

__all__ = ["Embedder", "Passage", "ScoredPassage", "VectorStore", "VectorStoreError"]
