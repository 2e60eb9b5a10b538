"""`LabeledFewShot`: demos drawn from the training set as they are, no LM call."""

from __future__ import annotations

import random
from collections.abc import Sequence

from pipelines.modules import Module
from pipelines.optimizers.base import CallEstimate, Optimizer, check_inputs
from pipelines.optimizers.labels import LabelledDemos
from pipelines.primitives import Example


class LabeledFewShot(Optimizer):
    """Gives every predictor up to `k` training examples as demos, sampled with `seed` (those that label
    the step: `pipelines.optimizers.labels`)."""

    def __init__(self, k: int = 16, seed: int = 0):
        self.k = k
        self.seed = seed

    def compile(self, program: Module, trainset: Sequence[Example],
                valset: Sequence[Example] | None = None) -> Module:
        """`valset` is accepted for the common protocol; labeled demos need no scoring."""
        check_inputs(program, trainset)
        if self.k < 0:
            raise ValueError(f"k must be 0 or more, got {self.k}")
        compiled = program.deepcopy()
        rng = random.Random(self.seed)
        labels = LabelledDemos(compiled)
        for name, predictor in compiled.named_predictors():
            predictor.demos = labels.of(name, predictor, rng.sample(list(trainset), min(self.k, len(trainset))))
        self.demo_counts_ = {name: len(p.demos) for name, p in compiled.named_predictors()}
        self.stopped_by_budget_, self.program_runs_ = False, 0
        return compiled

    def estimate(self, program: Module, trainset: Sequence[Example],
                 valset: Sequence[Example] | None = None) -> CallEstimate:
        return CallEstimate(lm_calls_per_run=len(program.named_predictors()))
