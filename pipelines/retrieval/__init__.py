"""Retrieval: passages embedded with MiniLM and searched with FAISS; documents added to and removed from a
store, and searches limited to what the caller's groups may see."""

from pipelines.retrieval.documents import Document, DocumentError, read_documents
from pipelines.retrieval.embedder import Embedder
from pipelines.retrieval.filters import caller_groups
from pipelines.retrieval.passage import Passage, ScoredPassage
from pipelines.retrieval.store import VectorStore, VectorStoreError
from pipelines.retrieval.updates import StoreUpdate, add_files, remove_documents, with_documents, without_documents

__all__ = ["Document", "DocumentError", "Embedder", "Passage", "ScoredPassage", "StoreUpdate", "VectorStore",
           "VectorStoreError", "add_files", "caller_groups", "read_documents", "remove_documents", "with_documents",
           "without_documents"]
