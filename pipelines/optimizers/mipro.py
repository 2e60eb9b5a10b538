"""`MIPRO`: Bayesian search over instructions and demo sets per predictor, in the style of "Optimizing
Instructions and Demonstrations for Multi-Stage Language Model Programs" (Opsahl-Ong et al., 2024).

(a) Demo sets are bootstrapped from the program's passing runs; (b) instructions are proposed by the LM,
grounded in the data, the program, demos and a tip, the original kept; (c) a TPE sampler picks combinations,
scored on minibatches, and the most promising are scored on the whole validation set. Under a budget, in a
resumable SQLite study, with one or more objectives."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipelines.config import current_lm
from pipelines.evaluation.metrics import Metric, as_metric
from pipelines.lm.budget import Budget
from pipelines.lm.client import LM
from pipelines.lm.errors import BudgetExceeded
from pipelines.lm.usage import Usage, track_usage
from pipelines.modules import Module
from pipelines.optimizers.base import Optimizer, check_inputs
from pipelines.optimizers.demo_sets import propose_demo_sets
from pipelines.optimizers.pareto import pareto_front, pick
from pipelines.optimizers.presets import CallEstimate, SearchSettings, estimate, resolve
from pipelines.optimizers.proposer import propose_instructions
from pipelines.optimizers.scorebook import ScoreBook
from pipelines.optimizers.search import Search, SearchState, TrialListener, trial_records
from pipelines.optimizers.search_space import Combination, PredictorCandidates, SearchSpace
from pipelines.optimizers.study import open_study, quiet_optuna, save_space, saved_space
from pipelines.primitives import Example

log = logging.getLogger(__name__)

COSTS = ("tokens", "latency")
PROPOSAL_TEMPERATURE = 0.7
PROPOSAL_MAX_TOKENS = 300


@dataclass(frozen=True)
class ParetoPoint:
    """A fully evaluated program of the Pareto set, with its quality and mean costs per example."""

    program: Module
    combination: Combination
    score: float
    standard_error: float
    tokens: float
    latency: float


class MIPRO(Optimizer):
    """Settings come from `auto` (light, medium, heavy; see `presets.AUTO`) with any given setting on top.
    `objectives` starts with "quality" and may add "tokens" and/or "latency" (mean per example, cached
    calls included) for a multi-objective search. `study_path` keeps the Optuna study in SQLite; `resume`
    continues the search stored there. `proposal_lm` writes instructions (default: the configured LM).
    A spent `budget` ends the search with the best fully evaluated program so far."""

    def __init__(self, metric: Metric | Callable[..., Any], *, auto: str | None = "light",
                 num_candidates: int | None = None, num_trials: int | None = None, minibatch_size: int | None = None,
                 val_size: int | None = None, num_full_evals: int | None = None,
                 max_bootstrapped_demos: int | None = None, max_labeled_demos: int | None = None,
                 objectives: Sequence[str] = ("quality",), proposal_lm: LM | None = None, num_threads: int = 4,
                 budget: Budget | None = None, study_path: str | Path | None = None, resume: bool = False,
                 listeners: Sequence[TrialListener] = (), seed: int = 0):
        self.metric = metric
        self.auto = auto
        self.num_candidates = num_candidates
        self.num_trials = num_trials
        self.minibatch_size = minibatch_size
        self.val_size = val_size
        self.num_full_evals = num_full_evals
        self.max_bootstrapped_demos = max_bootstrapped_demos
        self.max_labeled_demos = max_labeled_demos
        self.objectives = objectives
        self.proposal_lm = proposal_lm
        self.num_threads = num_threads
        self.budget = budget
        self.study_path = study_path
        self.resume = resume
        self.listeners = listeners
        self.seed = seed

    def search_settings(self) -> SearchSettings:
        return resolve(self.auto, {name: getattr(self, name) for name in SearchSettings.__dataclass_fields__})

    def estimate(self, program: Module, trainset: Sequence[Example],
                 valset: Sequence[Example] | None = None) -> CallEstimate:
        """Upper bounds of the program runs and LM calls `compile` would make: no LM call."""
        return estimate(self.search_settings(), num_predictors=len(program.named_predictors()),
                        train_size=len(trainset), val_size=len(valset or trainset))

    @quiet_optuna()
    def compile(self, program: Module, trainset: Sequence[Example], valset: Sequence[Example] | None = None) -> Module:
        check_inputs(program, trainset)
        costs = check_objectives(self.objectives)
        settings, metric = self.search_settings(), as_metric(self.metric)
        validation = self._validation(valset or trainset, settings)
        self.estimate_ = self.estimate(program, trainset, validation)
        study = open_study(Path(self.study_path) if self.study_path else None,
                           directions=["maximize"] + ["minimize"] * len(costs), seed=self.seed,
                           startup_trials=max(2, settings.num_trials // 4), resume=self.resume,
                           inputs=_inputs(program, trainset, validation, settings, costs, metric, self.seed))
        self.study_, self.stopped_by_budget_ = study, False
        started = time.perf_counter()
        book = ScoreBook(validation, settings.minibatch_size)
        with track_usage() as total, self.budget or nullcontext():
            space = self._search_space(study, program, list(trainset), metric, settings)
            search = Search(SearchState(study, space, book, program, metric, settings, costs, self.num_threads),
                            self.listeners)
            try:
                search.run()
            except BudgetExceeded as error:
                self.stopped_by_budget_ = True
                log.warning("the search stopped early, the budget is spent (%s); returning the best fully "
                            "evaluated program so far", error)
        self.stopped_by_budget_ |= search.state.budget_limited
        self.seconds_ = time.perf_counter() - started
        self.usage_, self.task_usage_ = total.total, search.state.task_usage + self._bootstrap_usage
        self.search_space_, self.trials_ = space, trial_records(study)
        self.program_runs_ = self.bootstrap_runs_ + sum(record.examples for record in self.trials_)
        return self._choose(program, space, book, costs)

    def _validation(self, valset: Sequence[Example], settings: SearchSettings) -> list[Example]:
        counts = Counter(example.example_id for example in valset)
        duplicates = sorted(example_id for example_id, count in counts.items() if count > 1)
        if duplicates:
            raise ValueError(f"validation examples need distinct ids; repeated: {duplicates[:5]}")
        if settings.val_size is None or len(valset) <= settings.val_size:
            return list(valset)
        chosen = set(random.Random(self.seed).sample(range(len(valset)), settings.val_size))
        return [example for index, example in enumerate(valset) if index in chosen]

    def _search_space(self, study, program: Module, trainset: list[Example], metric: Metric,
                      settings: SearchSettings) -> SearchSpace:
        """The candidates saved in the study, or new ones (bootstrapped demos, proposed instructions)."""
        self.bootstrap_runs_, self._bootstrap_usage = 0, Usage()
        self.proposal_usage_ = Usage()
        saved = saved_space(study)
        if saved is not None:
            return SearchSpace.from_dict(saved, program)
        with track_usage() as bootstrap_usage:
            demo_sets = propose_demo_sets(program, trainset, metric, num_sets=settings.num_candidates,
                                          max_bootstrapped_demos=settings.max_bootstrapped_demos,
                                          max_labeled_demos=settings.max_labeled_demos,
                                          num_threads=self.num_threads, seed=self.seed)
        with track_usage() as proposal_usage:
            proposals = propose_instructions(program, trainset, demo_sets.sets, num_candidates=settings.num_candidates,
                                             lm=self.proposal_lm or _proposal_lm(), seed=self.seed,
                                             num_threads=self.num_threads)
        self.bootstrap_runs_, self._bootstrap_usage = demo_sets.program_runs, bootstrap_usage.total
        self.proposal_usage_ = proposal_usage.total
        self.dataset_summary_ = proposals.dataset_summary
        space = SearchSpace({name: PredictorCandidates(proposals.instructions[name], demo_sets.sets[name])
                             for name, _ in program.named_predictors()})
        save_space(study, space.to_dict())
        return space

    def _choose(self, program: Module, space: SearchSpace, book: ScoreBook, costs: tuple[str, ...]) -> Module:
        full = {combination: record for combination, record in book.records.items() if book.is_full(combination)}
        original = book.get(space.original)
        self.baseline_score_ = original.score if space.original in full else None
        if not full:
            log.warning("no combination was scored on the whole validation set; returning the program as given")
            self.best_score_, self.best_combination_, self.pareto_ = None, None, []
            self.best_program_ = program.deepcopy()
            return self.best_program_
        chosen = pick(full, costs)
        self.best_combination_, self.best_score_ = chosen, full[chosen].score
        self.best_program_ = space.build(program, chosen)
        front = pareto_front(full, costs) if costs else [chosen]
        self.pareto_ = [ParetoPoint(space.build(program, combination), combination, full[combination].score,
                                    full[combination].standard_error, full[combination].tokens,
                                    full[combination].latency) for combination in front]
        return self.best_program_


def check_objectives(objectives: Sequence[str]) -> tuple[str, ...]:
    """The cost objectives after "quality", or a ValueError naming what is wrong."""
    objectives = tuple(objectives)
    if not objectives or objectives[0] != "quality" or any(name not in COSTS for name in objectives[1:]):
        raise ValueError(f"objectives must be 'quality' followed by any of {', '.join(COSTS)}; "
                         f"got {', '.join(objectives) or 'none'}")
    return objectives[1:]


def _proposal_lm() -> LM:
    """The configured LM, warmer for varied proposals and capped so a rambling reply stays short."""
    return current_lm().copy(temperature=PROPOSAL_TEMPERATURE, max_tokens=PROPOSAL_MAX_TOKENS)


def _inputs(program: Module, trainset: Sequence[Example], validation: Sequence[Example], settings: SearchSettings,
            costs: tuple[str, ...], metric: Metric, seed: int) -> dict[str, Any]:
    """What a resumed search must share with the one it continues."""
    def ids(examples: Sequence[Example]) -> str:
        return hashlib.sha256(json.dumps([e.example_id for e in examples]).encode()).hexdigest()[:16]

    return {"program": program.fingerprint(), "train": ids(trainset), "validation": ids(validation),
            "settings": asdict(settings), "objectives": ["quality", *costs], "metric": metric.name, "seed": seed}
