"""`BootstrapRandomSearch`: several bootstrapped demo sets, each scored on a validation set; the best wins."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from pipelines.evaluation.evaluate import evaluate
from pipelines.evaluation.metrics import Metric, as_metric
from pipelines.lm.budget import Budget
from pipelines.lm.errors import BudgetExceeded
from pipelines.lm.usage import track_usage
from pipelines.modules import Module
from pipelines.optimizers.base import Optimizer, check_inputs
from pipelines.optimizers.bootstrap import BootstrapFewShot
from pipelines.optimizers.labeled import LabeledFewShot
from pipelines.primitives import Example

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    name: str
    score: float
    fingerprint: str


class BootstrapRandomSearch(Optimizer):
    """Scores the program as it is, with labeled demos only, and with `num_candidates` demo sets bootstrapped
    from differently shuffled training sets, on `valset` (the training set when none is given). Returns the
    best; `candidates_` lists them all. A spent budget ends the search with the best so far."""

    def __init__(self, metric: Metric | Callable[..., Any], *, num_candidates: int = 6,
                 max_bootstrapped_demos: int = 4, max_labeled_demos: int = 4, num_threads: int = 4,
                 budget: Budget | None = None, seed: int = 0):
        self.metric = metric
        self.num_candidates = num_candidates
        self.max_bootstrapped_demos = max_bootstrapped_demos
        self.max_labeled_demos = max_labeled_demos
        self.num_threads = num_threads
        self.budget = budget
        self.seed = seed

    def compile(self, program: Module, trainset: Sequence[Example], valset: Sequence[Example] | None = None) -> Module:
        check_inputs(program, trainset)
        metric = as_metric(self.metric)
        validation = list(valset or trainset)
        self.candidates_: list[Candidate] = []
        self.stopped_by_budget_ = False
        best: tuple[float, Module] | None = None
        with track_usage() as usage, self.budget or nullcontext():
            try:
                for name, candidate in self._candidates(program, list(trainset), metric):
                    result = evaluate(candidate, validation, metric, num_threads=self.num_threads, description=None)
                    self.candidates_.append(Candidate(name, result.score, result.program_fingerprint))
                    if best is None or result.score > best[0]:
                        best = (result.score, candidate)
            except BudgetExceeded as error:
                self.stopped_by_budget_ = True
                log.warning("random search stopped early, the budget is spent (%s)", error)
        self.usage_ = usage.total
        self.best_program_ = best[1] if best is not None else program.deepcopy()
        self.best_score_ = best[0] if best is not None else None
        return self.best_program_

    def _candidates(self, program: Module, trainset: list[Example], metric: Metric):
        yield "zero-shot", program.deepcopy()
        yield "labeled", LabeledFewShot(self.max_labeled_demos, self.seed).compile(program, trainset)
        for index in range(self.num_candidates):
            shuffled = trainset[:]
            random.Random(self.seed + index).shuffle(shuffled)
            bootstrap = BootstrapFewShot(metric, max_bootstrapped_demos=self.max_bootstrapped_demos,
                                         max_labeled_demos=self.max_labeled_demos, num_threads=self.num_threads,
                                         seed=self.seed + index)
            yield f"bootstrapped-{index}", bootstrap.compile(program, shuffled)
