"""`evaluate`: run a program over examples in parallel and score it, keeping every prediction."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pipelines.adapter import ParseError
from pipelines.evaluation.metrics import Metric, Outputs, as_metric
from pipelines.lm.errors import BudgetExceeded
from pipelines.lm.usage import Usage, track_usage
from pipelines.modules.module import Module
from pipelines.parallel import parallel_map
from pipelines.primitives import Example


class TooManyErrors(RuntimeError):
    """More examples failed than `max_errors` allows; the last failure is the cause."""


class EveryExampleFailed(TooManyErrors):
    """No example got an answer (a provider that is down, a missing key): there is no score to report."""


@dataclass(frozen=True)
class ExampleResult:
    example: Example
    outputs: dict[str, Any] | None
    score: float
    error: str | None
    usage: Usage
    seconds: float

    @property
    def example_id(self) -> str:
        return self.example.example_id


@dataclass(frozen=True)
class EvaluationResult:
    metric: str
    score: float
    results: list[ExampleResult]
    usage: Usage
    seconds: float
    program_fingerprint: str

    @property
    def n(self) -> int:
        return len(self.results)

    @property
    def errors(self) -> int:
        return sum(result.error is not None for result in self.results)

    def scores(self, metrics: Mapping[str, Metric]) -> dict[str, float]:
        """Every named metric's value over the same predictions: no LM call."""
        return {name: self.rescore(metric).score for name, metric in metrics.items()}

    def rescore(self, metric: Metric | Callable[..., Any]) -> EvaluationResult:
        """The same predictions scored by another metric: no program run (a judge makes its own calls, cached)."""
        metric = as_metric(metric)
        results = [replace(result, score=_score(metric, result.example, result.outputs))
                   for result in self.results]
        return replace(self, metric=metric.name, score=_aggregate(metric, results), results=results)


def evaluate(program: Module, examples: Sequence[Example], metric: Metric | Callable[..., Any], *,
             num_threads: int = 1, max_errors: int | None = 10, description: str | None = "evaluating",
             ) -> EvaluationResult:
    """Score `program` on `examples`. A failing example scores 0 and is counted. An unreadable reply
    (`ParseError`) is the model's wrong answer; any other failure (provider down, bad key, a bug) counts
    against `max_errors`, past which the evaluation stops with `TooManyErrors`; when every example failed so,
    `EveryExampleFailed` is raised instead of a score of 0. A spent budget stops it at once."""
    metric = as_metric(metric)
    failures = _FailureCount(max_errors)
    started = time.perf_counter()
    with track_usage() as usage:
        results = parallel_map(lambda example: _run_one(program, example, metric, failures), examples,
                               num_threads=num_threads, description=description)
    if results and failures.count == len(results):
        raise EveryExampleFailed(f"every one of the {len(results)} examples failed, so there is no score; the "
                                 f"last: {type(failures.last).__name__}: {failures.last}") from failures.last
    return EvaluationResult(metric=metric.name, score=_aggregate(metric, results), results=results,
                            usage=usage.total, seconds=time.perf_counter() - started,
                            program_fingerprint=program.fingerprint())


def _run_one(program: Module, example: Example, metric: Metric, failures: _FailureCount) -> ExampleResult:
    failures.check()
    started = time.perf_counter()
    with track_usage() as usage:
        try:
            outputs, error = program(**example.inputs()).to_dict(), None
        except BudgetExceeded:
            raise
        except Exception as failure:  # one example's failure is counted, not fatal
            if not isinstance(failure, ParseError):
                failures.add(failure)
            outputs, error = None, f"{type(failure).__name__}: {failure}"
    return ExampleResult(example=example, outputs=outputs, score=_score(metric, example, outputs), error=error,
                         usage=usage.total, seconds=time.perf_counter() - started)


def _score(metric: Metric, example: Example, outputs: Outputs) -> float:
    return 0.0 if outputs is None else float(metric.score(example, outputs))


def _aggregate(metric: Metric, results: Sequence[ExampleResult]) -> float:
    return metric.aggregate([r.score for r in results], [r.example for r in results], [r.outputs for r in results])


class _FailureCount:
    """Failures so far, shared by the evaluation's threads."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.count = 0
        self.last: BaseException | None = None
        self._lock = threading.Lock()

    def add(self, failure: BaseException) -> None:
        with self._lock:
            self.count += 1
            self.last = failure
        self.check()

    def check(self) -> None:
        if self.limit is not None and self.count > self.limit:
            raise TooManyErrors(f"{self.count} examples failed, more than max_errors={self.limit}; "
                                f"the last: {type(self.last).__name__}: {self.last}") from self.last
