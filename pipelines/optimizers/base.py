"""The protocol every optimizer keeps, and what its estimate says.

Constructors only store their arguments; `compile(program, trainset, valset=None)` validates, never mutates
the user's program, returns a new one, and leaves what it learned in attributes ending in `_`, set by
`compile` itself. `estimate` bounds the work before any LM call, so code that runs an optimizer never asks
which one it holds."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.modules import Module
from pipelines.primitives import Example


@dataclass(frozen=True)
class CallEstimate:
    """Upper bounds of an optimizer's work, before any call is made (bootstrapping is assumed to run twice as
    many training examples as it keeps)."""

    bootstrap_runs: int = 0
    validation_runs: int = 0
    proposal_calls: int = 0
    lm_calls_per_run: int = 1

    @property
    def program_runs(self) -> int:
        return self.bootstrap_runs + self.validation_runs

    @property
    def lm_calls(self) -> int:
        return self.program_runs * self.lm_calls_per_run + self.proposal_calls


def bootstrap_runs_for(demos: int) -> int:
    """Program runs expected to bootstrap `demos` passing runs, assuming about half pass."""
    return 2 * demos


class Optimizer(ABC):
    stopped_by_budget_: bool
    program_runs_: int

    @abstractmethod
    def compile(self, program: Module, trainset: Sequence[Example],
                valset: Sequence[Example] | None = None) -> Module:
        """A better copy of `program`, chosen on `valset` where the optimizer scores candidates."""

    @abstractmethod
    def estimate(self, program: Module, trainset: Sequence[Example],
                 valset: Sequence[Example] | None = None) -> CallEstimate:
        """Upper bounds of the work `compile` would do on these data: no LM call."""

    def report(self) -> dict[str, Any]:
        """What the last `compile` did, as JSON numbers a run summary shows."""
        return {"stopped_by_budget": self.stopped_by_budget_, "program_runs": self.program_runs_}


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
