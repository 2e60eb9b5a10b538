"""The embedder on its three runtimes: OpenVINO agrees with PyTorch on the same weights (closely in bfloat16,
within int8's error quantized), each OpenVINO model is built once, the same way on every machine, and then
loaded from the model directory, and unknown runtimes are named."""

import numpy as np
import pytest

from pipelines.retrieval import encoders
from pipelines.retrieval.embedder import Embedder

PROSE = ["Paris is the capital and largest city of France.", "The Moon is Earth's only natural satellite.",
         "A banana is an elongated, edible yellow fruit.", "short"]
TEXTS = [*PROSE, "Python " * 400]


def test_openvino_and_torch_embed_the_same_texts_alike():
    reference = Embedder("torch").encode(TEXTS)
    bf16, int8 = Embedder("openvino").encode(TEXTS), Embedder("openvino-int8").encode(TEXTS)
    assert bf16.shape == int8.shape == reference.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    assert (bf16 * reference).sum(axis=1).min() > 0.999  # the long text is truncated the same way too
    assert (int8[:len(PROSE)] * reference[:len(PROSE)]).sum(axis=1).min() > 0.99
    assert (int8 * reference).sum(axis=1).min() > 0.95  # one word 256 times is far from news prose


@pytest.mark.parametrize("runtime", ["openvino", "openvino-int8"])
def test_the_order_of_texts_does_not_change_their_vectors(runtime):
    embedder = Embedder(runtime)
    forward, backward = embedder.encode(TEXTS), embedder.encode(TEXTS[::-1])[::-1]
    assert np.allclose(forward, backward, atol=1e-4)


def test_the_quantized_model_is_built_alike_everywhere_kept_and_not_built_again(tmp_path, monkeypatch):
    shared = Embedder("openvino-int8").encode(TEXTS)
    monkeypatch.setenv("SIGFLOW_MODEL_DIR", str(tmp_path))
    built = Embedder("openvino-int8").encode(TEXTS)
    assert np.allclose(built, shared, atol=1e-6)
    kept = sorted(path.name for path in tmp_path.iterdir())
    assert len(kept) == 2 and kept[1] == f"{kept[0]}-int8-nncf-{encoders._release(__import__('nncf'))}"

    def no_build(*_, **__):
        raise AssertionError("built a second time")

    monkeypatch.setattr(encoders, "_traced", no_build)
    monkeypatch.setattr("nncf.quantize", no_build)
    assert np.allclose(Embedder("openvino-int8").encode(TEXTS), built)


def test_an_unknown_runtime_is_named():
    with pytest.raises(ValueError, match=r"unknown embedding runtime 'gpu'.*openvino-int8, openvino, torch"):
        Embedder("gpu")
