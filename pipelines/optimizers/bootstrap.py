"""`BootstrapFewShot`: demos from the program's own runs on training examples, kept only where the run
passed the metric, so every predictor along the way gets a demo of a step that led to a right answer."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

from tqdm import tqdm

from pipelines.config import context, current_lm
from pipelines.evaluation.metrics import Metric, as_metric
from pipelines.lm.budget import Budget
from pipelines.lm.client import LM
from pipelines.lm.errors import BudgetExceeded
from pipelines.lm.usage import track_usage
from pipelines.modules import Module
from pipelines.modules.chain_of_thought import REASONING
from pipelines.modules.trace import TraceStep, collect_trace
from pipelines.optimizers.base import CallEstimate, Optimizer, bootstrap_runs_for, check_inputs
from pipelines.optimizers.labels import LabelledDemos
from pipelines.parallel import parallel_map
from pipelines.primitives import Example

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Attempt:
    example: Example
    steps: list[TraceStep]
    passed: bool


@dataclass(frozen=True)
class _Bootstrapped:
    """What a bootstrapping pass found: the passing attempts (every one of the batch that reached the demos
    wanted, so a pool of runs can draw on them), how many runs it took, and whether the budget ended it."""

    passed: list[_Attempt]
    attempts: int
    stopped_by_budget: bool


class BootstrapFewShot(Optimizer):
    """Runs a teacher (a copy of the program, or `teacher`) on training examples, in parallel batches, until
    `max_bootstrapped_demos` runs pass `metric` (a score of at least `metric_threshold`; by default any truthy
    score). Each predictor gets the inputs and outputs it produced in those runs as demos (the runs with the
    shortest reasoning first; a step called several times in a run, as an agent's is, gets every call, so its
    trajectory is shown whole), then up to `max_labeled_demos` plain training examples. Rounds after the first
    draw fresh samples at `temperature`. With a `budget`, a spent budget ends bootstrapping early with the
    demos found so far."""

    def __init__(self, metric: Metric | Callable[..., Any], *, max_bootstrapped_demos: int = 4,
                 max_labeled_demos: int = 4, max_rounds: int = 1, metric_threshold: float | None = None,
                 teacher: Module | None = None, num_threads: int = 4, temperature: float = 1.0,
                 budget: Budget | None = None, seed: int = 0):
        self.metric = metric
        self.max_bootstrapped_demos = max_bootstrapped_demos
        self.max_labeled_demos = max_labeled_demos
        self.max_rounds = max_rounds
        self.metric_threshold = metric_threshold
        self.teacher = teacher
        self.num_threads = num_threads
        self.temperature = temperature
        self.budget = budget
        self.seed = seed

    def compile(self, program: Module, trainset: Sequence[Example],
                valset: Sequence[Example] | None = None) -> Module:
        """`valset` is accepted for the common protocol; demos are kept by the metric on training runs."""
        check_inputs(program, trainset)
        if self.max_rounds < 1:
            raise ValueError(f"max_rounds must be at least 1, got {self.max_rounds}")
        metric = as_metric(self.metric)
        teacher = (self.teacher or program).deepcopy()
        with track_usage() as usage, self.budget or nullcontext():
            found = self._bootstrap(teacher, list(trainset), metric)
        self.usage_, self.attempts_, self.program_runs_ = usage.total, found.attempts, found.attempts
        self.stopped_by_budget_ = found.stopped_by_budget
        self.bootstrapped_ = _demos_by_predictor(teacher, program, found.passed)
        kept = _demos_by_predictor(teacher, program, found.passed[:self.max_bootstrapped_demos])
        used = {attempt.example.example_id for attempt in found.passed}
        rest = [example for example in trainset if example.example_id not in used]
        labeled = random.Random(self.seed).sample(rest, min(self.max_labeled_demos, len(rest)))
        compiled = program.deepcopy()
        labels = LabelledDemos(compiled)
        self.demo_counts_ = {}
        for name, predictor in compiled.named_predictors():
            shown = labels.of(name, predictor, labeled)
            predictor.demos = kept[name] + shown
            self.demo_counts_[name] = {"bootstrapped": len(kept[name]), "labeled": len(shown)}
        return compiled

    def estimate(self, program: Module, trainset: Sequence[Example],
                 valset: Sequence[Example] | None = None) -> CallEstimate:
        return CallEstimate(bootstrap_runs=min(len(trainset), bootstrap_runs_for(self.max_bootstrapped_demos)),
                            lm_calls_per_run=len(program.named_predictors()))

    def _bootstrap(self, teacher: Module, trainset: list[Example], metric: Metric) -> _Bootstrapped:
        """Passing attempts (the shortest reasoning first), until a batch brings them to `max_bootstrapped_demos`."""
        passed: list[_Attempt] = []
        attempts = 0
        progress = tqdm(desc="bootstrapping demos", unit="run", postfix={"passed": 0}, disable=None)
        try:
            for round_index in range(self.max_rounds):
                done = {attempt.example.example_id for attempt in passed}
                pending = [example for example in trainset if example.example_id not in done]
                # Later rounds sample afresh: a hotter LM gives other answers (and other cache entries).
                lm = current_lm() if round_index == 0 else current_lm().copy(temperature=self.temperature)
                for start in range(0, len(pending), max(1, self.num_threads)):
                    if len(passed) >= self.max_bootstrapped_demos:
                        # The whole last batch: pools use them all.
                        return _Bootstrapped(_briefest_first(passed), attempts, False)
                    batch = parallel_map(partial(self._attempt, teacher, metric, lm),
                                         pending[start:start + self.num_threads], num_threads=self.num_threads)
                    attempts += len(batch)
                    passed += [attempt for attempt in batch if attempt.passed]
                    progress.set_postfix(passed=len(passed), refresh=False)
                    progress.update(len(batch))
        except BudgetExceeded as error:
            log.warning("bootstrapping stopped early, the budget is spent (%s); keeping %d demos", error, len(passed))
            return _Bootstrapped(_briefest_first(passed)[:self.max_bootstrapped_demos], attempts, True)
        finally:
            progress.close()
        return _Bootstrapped(_briefest_first(passed)[:self.max_bootstrapped_demos], attempts, False)

    def _attempt(self, teacher: Module, metric: Metric, lm: LM, example: Example) -> _Attempt:
        with context(lm=lm), collect_trace() as steps:
            try:
                prediction = teacher(**example.inputs())
            except BudgetExceeded:
                raise
            except Exception as failure:  # a failed run is simply not a demo
                log.debug("bootstrap run failed on %s: %s", example.example_id, failure)
                return _Attempt(example, [], False)
        score = float(metric.score(example, prediction.to_dict()))
        passed = score >= self.metric_threshold if self.metric_threshold is not None else bool(score)
        return _Attempt(example, list(steps), passed)



def _briefest_first(passed: list[_Attempt]) -> list[_Attempt]:
    """Passing runs with the shortest reasoning first (training-set order among equals): a demo's reasoning
    is imitated, and a small model that imitates a long one may not reach its answer."""
    def reasoning_words(attempt: _Attempt) -> int:
        return sum(len(str(step.outputs.get(REASONING, "")).split()) for step in attempt.steps)

    return sorted(passed, key=reasoning_words)


def _demos_by_predictor(teacher: Module, program: Module, passed: list[_Attempt]) -> dict[str, list[Example]]:
    """For each of the program's predictors, the steps its twin in the teacher took in passing runs."""
    teacher_names = {id(predictor): name for name, predictor in teacher.named_predictors()}
    bootstrapped: dict[str, list[Example]] = {name: [] for name, _ in program.named_predictors()}
    for attempt in passed:
        for step in attempt.steps:
            name = teacher_names.get(id(step.predictor))
            if name in bootstrapped:
                bootstrapped[name].append(Example({**step.inputs, **step.outputs}, input_keys=tuple(step.inputs)))
    return bootstrapped
