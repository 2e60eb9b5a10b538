"""The runtimes that run all-MiniLM-L6-v2's weights: OpenVINO (the default) and PyTorch through
sentence-transformers (the reference it is measured against).

OpenVINO computes in bfloat16 where the CPU has it, which on the 2-core machines here embeds 2.2 (HotpotQA)
to 2.6 (BBC) times as many passages a second as PyTorch in float32 with embeddings that agree to a cosine of
0.99998 (`python -m benchmarks run embedding_runtime`). Its model is converted from the package's PyTorch weights
once, on first use, and kept beside the embedded LM."""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from pipelines import settings

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class TorchEncoder:
    """sentence-transformers on PyTorch, float32."""

    precision = "f32"

    def __init__(self, model_dir: Path):
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        self.dimension = self._model.get_embedding_dimension()

    def encode(self, texts: Sequence[str], batch_size: int, progress: bool) -> np.ndarray:
        return self._model.encode(texts, batch_size=batch_size, show_progress_bar=progress,
                                  convert_to_numpy=True, normalize_embeddings=True)


class OpenVinoEncoder:
    """The same weights converted to OpenVINO, two inference streams at once, mean-pooled and normalized as
    sentence-transformers does for this model."""

    def __init__(self, model_dir: Path):
        import openvino
        from tokenizers import Tokenizer

        core = openvino.Core()
        config = {"PERFORMANCE_HINT": "THROUGHPUT"}
        if "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            config["INFERENCE_PRECISION_HINT"] = "bf16"
        self._compiled = core.compile_model(str(_converted(model_dir)), "CPU", config)
        self.precision = self._compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
        self.dimension = int(self._compiled.output(0).get_partial_shape()[2].get_length())
        self._queue = openvino.AsyncInferQueue(self._compiled)
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        max_length = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.enable_padding()

    def encode(self, texts: Sequence[str], batch_size: int, progress: bool) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([len(text) for text in texts], kind="stable")  # alike lengths pad least
        batches = [order[start:start + batch_size] for start in range(0, len(texts), batch_size)]
        with tqdm(total=len(texts), desc="embedding", unit="passage", disable=not progress) as bar:
            def pooled(request: Any, batch: tuple[np.ndarray, np.ndarray]) -> None:
                rows, mask = batch
                vectors[rows] = _mean_pooled(request.get_output_tensor(0).data, mask)
                bar.update(len(rows))

            self._queue.set_callback(pooled)
            for rows in batches:
                feed = self._feed([texts[row] for row in rows])
                self._queue.start_async(feed, (rows, feed["attention_mask"]))
            self._queue.wait_all()
        return vectors

    def _feed(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def _mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return summed / np.linalg.norm(summed, axis=1, keepdims=True)


def _converted(model_dir: Path) -> Path:
    """The OpenVINO model of `model_dir`'s weights, converted on first use into the model directory and
    renamed into place whole, so a crash mid-way leaves nothing half-written."""
    import openvino

    release = openvino.__version__.split("-")[0]
    target = settings.model_dir() / f"{model_dir.parent.name}-openvino-{release}"
    if (target / "model.xml").is_file():
        return target / "model.xml"
    log.info("converting the embedding model to OpenVINO into %s (once)", target)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.partial")
    partial.mkdir(parents=True)
    try:
        openvino.save_model(_traced(model_dir), str(partial / "model.xml"), compress_to_fp16=False)
        try:
            partial.rename(target)
        except OSError:  # another process converted it first
            if not (target / "model.xml").is_file():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return target / "model.xml"


def _traced(model_dir: Path) -> Any:
    import openvino
    import torch
    from transformers import AutoModel, AutoTokenizer

    class Encoder(torch.nn.Module):
        """The transformer alone, with its inputs named: pooling happens in numpy."""

        def __init__(self, model: torch.nn.Module):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    example = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)(
        ["an example", "a longer example sentence"], padding=True, return_tensors="pt")
    with torch.no_grad():
        converted = openvino.convert_model(Encoder(model), example_input={name: example[name] for name in _INPUTS})
    for port, name in zip(converted.inputs, _INPUTS, strict=True):
        port.get_tensor().set_names({name})
    return converted
