"""Candidate demo sets per predictor for the instruction-and-demo search, from one bootstrapping pass."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from pipelines.evaluation.metrics import Metric
from pipelines.modules import Module
from pipelines.optimizers.bootstrap import BootstrapFewShot
from pipelines.optimizers.labels import LabelledDemos
from pipelines.optimizers.search_space import BOOTSTRAPPED_SET
from pipelines.primitives import Example


@dataclass(frozen=True)
class DemoSets:
    sets: dict[str, list[list[Example]]]
    runs: dict[str, list[Example]]
    """Each predictor's passing runs the sets were drawn from."""
    program_runs: int
    stopped_by_budget: bool


def propose_demo_sets(program: Module, trainset: Sequence[Example], metric: Metric, *, num_sets: int,
                      max_bootstrapped_demos: int, max_labeled_demos: int, num_threads: int, seed: int
                      ) -> DemoSets:
    """`num_sets` demo sets per predictor: no demos, labeled examples only, BootstrapFewShot's choice (its
    first `max_bootstrapped_demos` passing runs and `max_labeled_demos` labeled examples), then sets that draw
    as many from one pool of passing runs (twice that size, so sets differ without bootstrapping each
    apart). A spent budget leaves the sets with the runs that passed so far."""
    if num_sets < 1:
        raise ValueError(f"num_sets must be at least 1, got {num_sets}")
    rng = random.Random(seed)
    shuffled = list(trainset)
    rng.shuffle(shuffled)
    pools: dict[str, list[Example]] = {name: [] for name, _ in program.named_predictors()}
    runs, stopped = 0, False
    if num_sets > 2 and max_bootstrapped_demos > 0:
        bootstrapper = BootstrapFewShot(metric, max_bootstrapped_demos=2 * max_bootstrapped_demos,
                                        max_labeled_demos=0, num_threads=num_threads, seed=seed)
        bootstrapper.compile(program, shuffled)
        pools, runs, stopped = bootstrapper.bootstrapped_, bootstrapper.attempts_, bootstrapper.stopped_by_budget_
    labels = LabelledDemos(program)
    sets = {name: _sets_for(pools[name], shuffled, rng, num_sets, max_bootstrapped_demos, max_labeled_demos,
                            partial(labels.of, name, predictor))
            for name, predictor in program.named_predictors()}
    return DemoSets(sets, pools, runs, stopped)


def _sets_for(pool: list[Example], trainset: list[Example], rng: random.Random, num_sets: int,
              max_bootstrapped: int, max_labeled: int, as_demos: Callable[[list[Example]], list[Example]]
              ) -> list[list[Example]]:
    """No demos; labeled only; BootstrapFewShot's choice (the first passing runs); then random draws."""
    sets: list[list[Example]] = [[], as_demos(rng.sample(trainset, min(max_labeled, len(trainset))))][:num_sets]
    if num_sets > BOOTSTRAPPED_SET:
        sets.append(_with_labeled(pool[:max_bootstrapped], trainset, rng, max_labeled, as_demos))
    for _ in range(num_sets - len(sets)):
        drawn = rng.sample(pool, min(max_bootstrapped, len(pool)))
        sets.append(_with_labeled(drawn, trainset, rng, max_labeled, as_demos))
    return sets


def _with_labeled(chosen: list[Example], trainset: list[Example], rng: random.Random, max_labeled: int,
                  as_demos: Callable[[list[Example]], list[Example]]) -> list[Example]:
    # A bootstrapped demo carries its example's inputs among its own: compare on those not to show it twice.
    keys = trainset[0].input_keys if trainset else ()
    shown = [{key: demo.get(key) for key in keys} for demo in chosen]
    rest = [example for example in trainset if example.inputs() not in shown]
    return chosen + as_demos(rng.sample(rest, min(max_labeled, len(rest))))
