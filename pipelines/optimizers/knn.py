"""`KNNFewShot`: every predictor gets a pool of demos from the training set (`pools`), and each call shows the
`k` whose questions are nearest its own. A demo is the program's own passing run on that training example
where bootstrapping found one, its labels otherwise where they make a whole demo."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pipelines.demo_pool import DemoPool, check_similarity
from pipelines.evaluation.metrics import Metric
from pipelines.lm.budget import Budget
from pipelines.modules import Module
from pipelines.optimizers.base import CallEstimate, Optimizer, check_inputs
from pipelines.optimizers.bootstrap import BootstrapFewShot
from pipelines.optimizers.labels import LabelledDemos
from pipelines.optimizers.pools import pool_keys, pool_of, whole_demos
from pipelines.primitives import Example


class KNNFewShot(Optimizer):
    """`k` demos per call from each predictor's pool. With a `metric`, the program first runs on up to
    `max_bootstrap_runs` training examples (all by default) and its passing runs become demos; without one,
    the pool holds labels only. `keys` names the input fields compared (default: the predictor's inputs that
    are also the training examples' inputs, such as the question) and `similarity` how: by meaning
    ("semantic", MiniLM), by shared words ("lexical", TF-IDF) or by both ("hybrid"). A spent `budget` ends
    bootstrapping early; the examples not reached give labeled demos."""

    def __init__(self, k: int = 4, metric: Metric | Callable[..., Any] | None = None, *,
                 max_bootstrap_runs: int | None = None, keys: Sequence[str] | None = None,
                 similarity: str = "semantic", num_threads: int = 4, budget: Budget | None = None, seed: int = 0):
        self.k = k
        self.metric = metric
        self.max_bootstrap_runs = max_bootstrap_runs
        self.keys = keys
        self.similarity = similarity
        self.num_threads = num_threads
        self.budget = budget
        self.seed = seed

    def compile(self, program: Module, trainset: Sequence[Example],
                valset: Sequence[Example] | None = None) -> Module:
        """`valset` is accepted for the common protocol; the pools are built from `trainset` alone."""
        check_inputs(program, trainset)
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        check_similarity(self.similarity)  # before any bootstrapping run
        bootstrapped, self.program_runs_, self.stopped_by_budget_ = self._bootstrap(program, list(trainset))
        compiled = program.deepcopy()
        labels = LabelledDemos(compiled)
        self.pool_sizes_ = {}
        for name, predictor in compiled.named_predictors():
            keys = pool_keys(predictor, trainset, self.keys)
            passed = bootstrapped.get(name, [])
            pool = whole_demos(predictor, pool_of(keys, passed, labels.of(name, predictor, trainset)))
            predictor.demos = []
            predictor.demo_pool = DemoPool(pool, k=self.k, keys=keys, similarity=self.similarity)
            self.pool_sizes_[name] = {"bootstrapped": len(passed), "labeled": len(pool) - len(passed)}
        return compiled

    def estimate(self, program: Module, trainset: Sequence[Example],
                 valset: Sequence[Example] | None = None) -> CallEstimate:
        runs = 0 if self.metric is None else min(len(trainset), self.max_bootstrap_runs or len(trainset))
        return CallEstimate(bootstrap_runs=runs, lm_calls_per_run=len(program.named_predictors()))

    def report(self) -> dict[str, Any]:
        return {**super().report(), "pool_sizes": self.pool_sizes_}

    def _bootstrap(self, program: Module, trainset: list[Example]) -> tuple[dict[str, list[Example]], int, bool]:
        """Demos per predictor from passing runs, the runs made, and whether the budget stopped them."""
        if self.metric is None:
            return {}, 0, False
        runs = trainset[:self.max_bootstrap_runs] if self.max_bootstrap_runs is not None else trainset
        teacher = program.deepcopy()
        for predictor in teacher.predictors():
            predictor.demos, predictor.demo_pool = [], None
        bootstrapper = BootstrapFewShot(self.metric, max_bootstrapped_demos=len(runs), max_labeled_demos=0,
                                        teacher=teacher, num_threads=self.num_threads, budget=self.budget,
                                        seed=self.seed)
        bootstrapper.compile(program, runs)
        return bootstrapper.bootstrapped_, bootstrapper.attempts_, bootstrapper.stopped_by_budget_
