"""Retrieval: passages embedded with MiniLM and searched with FAISS."""

from pipelines.retrieval.embedder import Embedder
from pipelines.retrieval.store import Passage, ScoredPassage, VectorStore, VectorStoreError

__all__ = ["Embedder", "Passage", "ScoredPassage", "VectorStore", "VectorStoreError"]
