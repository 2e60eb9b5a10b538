"""Per-input demo pools: what `KNNFewShot` gives each predictor, and what MIPRO's search may choose instead of
a fixed demo set. A pool holds the program's passing runs, then the labelled examples no run covers; a call
is shown those whole for its step (every output the step asks for: a chain-of-thought step's labels lack
its reasoning unless it answers directly, and a demo without it teaches the model to skip it)."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.modules import Predictor
from pipelines.primitives import Example


def pool_keys(predictor: Predictor, trainset: Sequence[Example], keys: Sequence[str] | None = None
              ) -> tuple[str, ...]:
    """The input fields compared: `keys` if given, else the step's inputs that are also the training
    examples' inputs (the question, not the passages a step is given), else all its inputs."""
    inputs = list(predictor.signature.input_fields)
    if keys is not None:
        unknown = [key for key in keys if key not in inputs]
        if unknown:
            raise ValueError(f"keys {unknown} are not inputs of {predictor.signature.spec!r}")
        return tuple(keys)
    shared = [name for name in inputs if trainset and name in trainset[0].input_keys]
    return tuple(shared or inputs)


def pool_of(keys: Sequence[str], runs: Sequence[Example], labelled: Sequence[Example]) -> list[Example]:
    """The passing runs, then the labelled demos that have the key fields and whose keys no run has."""
    covered = {_key(demo, keys) for demo in runs}
    rest = [demo for demo in labelled if all(key in demo for key in keys) and _key(demo, keys) not in covered]
    return [*runs, *rest]


def whole_demos(predictor: Predictor, demos: Sequence[Example], omitted: Sequence[str] | None = None
                ) -> list[Example]:
    """The demos that show every output the step asks for, given the fields it omits (its own by default)."""
    left_out = predictor.omitted if omitted is None else tuple(omitted)
    outputs = [name for name in predictor.signature.output_fields if name not in left_out]
    return [demo for demo in demos if all(name in demo for name in outputs)]


def _key(demo: Example, keys: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(demo.get(key)) for key in keys)
