"""What every optimizer shares: the `compile` contract and its checks.

Constructors only store their arguments; `compile(program, trainset)` validates, never mutates the
user's program, returns a new one, and leaves what it learned in attributes ending in `_`."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.modules import Module
from pipelines.primitives import Example


class Optimizer:
    def compile(self, program: Module, trainset: Sequence[Example]) -> Module:
        raise NotImplementedError


def check_inputs(program: Module, trainset: Sequence[Example]) -> None:
    """Refuse what cannot be optimized, naming the problem."""
    if not isinstance(program, Module):
        raise TypeError(f"expected a Module to optimize, got {type(program).__name__}")
    if not program.named_predictors():
        raise ValueError(f"{type(program).__name__} has no predictors to optimize")
    if not trainset:
        raise ValueError("the training set is empty")
    unmarked = [index for index, example in enumerate(trainset) if not example.input_keys]
    if unmarked:
        raise ValueError(f"training examples {unmarked[:5]} have no inputs marked: call .with_inputs(...)")
