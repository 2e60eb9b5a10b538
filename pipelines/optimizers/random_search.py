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
from pipelines.optimizers.base import CallEstimate, Optimizer, bootstrap_runs_for, check_inputs
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

    def compile(self, program: Module, trainset: Sequence[Example],
                valset: Sequence[Example] | None = None) -> Module:
        check_inputs(program, trainset)
        metric = as_metric(self.metric)
        validation = list(valset or trainset)
        candidates: list[Candidate] = []
        best: tuple[float, Module] | None = None
        stopped, bootstrap_runs = False, 0
        with track_usage() as usage, self.budget or nullcontext():
            try:
                for name, candidate, runs in self._candidates(program, list(trainset), metric):
                    bootstrap_runs += runs
                    result = evaluate(candidate, validation, metric, num_threads=self.num_threads, description=None)
                    candidates.append(Candidate(name, result.score, result.program_fingerprint))
                    if best is None or result.score > best[0]:
                        best = (result.score, candidate)
            except BudgetExceeded as error:
                stopped = True
                log.warning("random search stopped early, the budget is spent (%s)", error)
        self.candidates_, self.usage_, self.stopped_by_budget_ = candidates, usage.total, stopped
        self.program_runs_ = bootstrap_runs + len(candidates) * len(validation)
        self.best_program_ = best[1] if best is not None else program.deepcopy()
        self.best_score_ = best[0] if best is not None else None
        return self.best_program_

    def estimate(self, program: Module, trainset: Sequence[Example],
                 valset: Sequence[Example] | None = None) -> CallEstimate:
        """Each bootstrapped candidate bootstraps apart; every candidate, and the two fixed ones, is scored
        on the whole validation set."""
        per_candidate = min(len(trainset), bootstrap_runs_for(self.max_bootstrapped_demos))
        return CallEstimate(bootstrap_runs=self.num_candidates * per_candidate,
                            validation_runs=(self.num_candidates + 2) * len(valset or trainset),
                            lm_calls_per_run=len(program.named_predictors()))

    def _candidates(self, program: Module, trainset: list[Example], metric: Metric):
        """(name, program, bootstrap runs it took) for the zero-shot, labeled and bootstrapped candidates."""
        yield "zero-shot", program.deepcopy(), 0
        yield "labeled", LabeledFewShot(self.max_labeled_demos, self.seed).compile(program, trainset), 0
        for index in range(self.num_candidates):
            shuffled = trainset[:]
            random.Random(self.seed + index).shuffle(shuffled)
            bootstrap = BootstrapFewShot(metric, max_bootstrapped_demos=self.max_bootstrapped_demos,
                                         max_labeled_demos=self.max_labeled_demos, num_threads=self.num_threads,
                                         seed=self.seed + index)
            compiled = bootstrap.compile(program, shuffled)
            yield f"bootstrapped-{index}", compiled, bootstrap.program_runs_
