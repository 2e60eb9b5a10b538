"""The embedder on both runtimes: OpenVINO agrees with PyTorch on the same weights, is converted once and
then loaded from the model directory, and unknown runtimes are named."""

import numpy as np
import pytest

from pipelines.retrieval import encoders
from pipelines.retrieval.embedder import Embedder

TEXTS = ["Paris is the capital and largest city of France.", "The Moon is Earth's only natural satellite.",
         "A banana is an elongated, edible yellow fruit.", "short", "Python " * 400]


def test_openvino_and_torch_embed_the_same_texts_alike():
    fast, reference = Embedder("openvino").encode(TEXTS), Embedder("torch").encode(TEXTS)
    assert fast.shape == reference.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (fast * reference).sum(axis=1).min() > 0.999  # the long text is truncated the same way too


def test_the_order_of_texts_does_not_change_their_vectors():
    embedder = Embedder("openvino")
    forward, backward = embedder.encode(TEXTS), embedder.encode(TEXTS[::-1])[::-1]
    assert np.allclose(forward, backward, atol=1e-4)


def test_the_converted_model_is_kept_and_loaded_without_converting_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGFLOW_MODEL_DIR", str(tmp_path))
    first = Embedder("openvino").encode(TEXTS[:1])
    assert [path.name for path in tmp_path.iterdir() if not path.name.startswith(".")] != []

    def no_conversion(*_):
        raise AssertionError("converted a second time")

    monkeypatch.setattr(encoders, "_traced", no_conversion)
    assert np.allclose(Embedder("openvino").encode(TEXTS[:1]), first)


def test_an_unknown_runtime_is_named():
    with pytest.raises(ValueError, match=r"unknown embedding runtime 'gpu'.*openvino, torch"):
        Embedder("gpu")
