"""The runtimes that run all-MiniLM-L6-v2's weights: OpenVINO, quantized to int8 (the default) or in
bfloat16, and PyTorch through sentence-transformers (the reference they are measured against).

On the 2-core machines here int8 embeds 3.1 (BBC) to 3.6 (HotpotQA) times as many passages a second as
PyTorch in float32, with vectors within a cosine of 0.993 and the same HotpotQA recall@5; bfloat16 2.4 times,
within 0.99997 (`python -m benchmarks run embedding_runtime`). The OpenVINO models are built from the package's
PyTorch weights once, on first use, and kept beside the embedded LM."""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from pipelines import settings
from pipelines.retrieval.calibration import calibration_texts

log = logging.getLogger(__name__)

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
CALIBRATION_BATCH = 16


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
    sentence-transformers does for this model. `quantized` runs the int8 model (`_quantized`); otherwise the
    weights stay float32 and compute in bfloat16 where the CPU has it."""

    def __init__(self, model_dir: Path, quantized: bool):
        import openvino

        core = openvino.Core()
        config = {"PERFORMANCE_HINT": "THROUGHPUT"}
        if "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            config["INFERENCE_PRECISION_HINT"] = "bf16"
        model = _quantized(model_dir) if quantized else _converted(model_dir)
        self._compiled = core.compile_model(str(model), "CPU", config)
        hint = self._compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
        self.precision = f"int8 ({hint} between)" if quantized else hint
        self.dimension = int(self._compiled.output(0).get_partial_shape()[2].get_length())
        self._queue = openvino.AsyncInferQueue(self._compiled)
        self._tokenizer = _tokenizer(model_dir)

    def encode(self, texts: Sequence[str], batch_size: int, progress: bool) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with tqdm(total=len(texts), desc="embedding", unit="passage", disable=not progress) as bar:
            def pooled(request: Any, batch: tuple[np.ndarray, np.ndarray]) -> None:
                rows, mask = batch
                vectors[rows] = _mean_pooled(request.get_output_tensor(0).data, mask)
                bar.update(len(rows))

            self._queue.set_callback(pooled)
            for rows in _length_batches(texts, batch_size):
                feed = _feed(self._tokenizer, [texts[row] for row in rows])
                self._queue.start_async(feed, (rows, feed["attention_mask"]))
            self._queue.wait_all()
        return vectors


def _tokenizer(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    tokenizer.enable_padding()
    return tokenizer


def _length_batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Row numbers in batches of texts of alike length, which pad least."""
    order = np.argsort([len(text) for text in texts], kind="stable")
    return [order[start:start + batch_size] for start in range(0, len(texts), batch_size)]


def _feed(tokenizer: Any, texts: list[str]) -> dict[str, np.ndarray]:
    encodings = tokenizer.encode_batch(texts)
    ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
    mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def _mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return summed / np.linalg.norm(summed, axis=1, keepdims=True)


def _converted(model_dir: Path) -> Path:
    """The OpenVINO model of `model_dir`'s float32 weights."""
    import openvino

    def convert(target: Path) -> None:
        openvino.save_model(_traced(model_dir), str(target), compress_to_fp16=False)

    return _kept(f"{model_dir.parent.name}-openvino-{_release(openvino)}", convert)


def _quantized(model_dir: Path) -> Path:
    """The converted model with int8 weights and activations: NNCF's post-training quantization for
    transformers, its activation ranges measured on `calibration_texts()` batched as `encode` batches them."""
    import nncf
    import openvino

    def quantize(target: Path) -> None:
        texts = calibration_texts()
        tokenizer = _tokenizer(model_dir)
        feeds = [_feed(tokenizer, [texts[row] for row in rows]) for rows in _length_batches(texts, CALIBRATION_BATCH)]
        model = openvino.Core().read_model(str(_converted(model_dir)))
        quantized = nncf.quantize(model, nncf.Dataset(feeds), model_type=nncf.ModelType.TRANSFORMER,
                                  subset_size=len(feeds))
        openvino.save_model(quantized, str(target), compress_to_fp16=False)

    return _kept(f"{model_dir.parent.name}-openvino-{_release(openvino)}-int8-nncf-{_release(nncf)}", quantize)


def _release(module: Any) -> str:
    return module.__version__.split("-")[0]


def _kept(name: str, build: Callable[[Path], None]) -> Path:
    """`<model dir>/<name>/model.xml`, built on first use in a directory of its own and renamed into place
    whole, so a crash mid-way leaves nothing half-written."""
    target = settings.model_dir() / name
    if (target / "model.xml").is_file():
        return target / "model.xml"
    log.info("building the embedding model %s (once)", target)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.partial")
    partial.mkdir(parents=True)
    try:
        build(partial / "model.xml")
        try:
            partial.rename(target)
        except OSError:  # another process built it first
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
