"""`MIPRO`: Bayesian search over instructions and demo sets per predictor, in the style of "Optimizing
Instructions and Demonstrations for Multi-Stage Language Model Programs" (Opsahl-Ong et al., 2024).

(a) Demo sets are bootstrapped from the program's passing runs; (b) instructions are proposed by the LM,
grounded in the data, the program, demos and a tip, the original kept; (c) a TPE sampler picks combinations
(an instruction, a demo set or each call's nearest training demos, how many demos to show, and whether a
chain-of-thought step reasons), scored on minibatches, and the most promising are scored on the whole
validation set. Under a budget, in a resumable study (SQLite, or PostgreSQL or a journal file shared by
workers that join it), with one or more objectives."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pipelines.config import current_lm
from pipelines.evaluation.metrics import Metric, as_metric
from pipelines.lm.budget import Budget
from pipelines.lm.client import LM
from pipelines.lm.errors import BudgetExceeded
from pipelines.lm.usage import Usage, track_usage
from pipelines.modules import Module, Predictor
from pipelines.modules.chain_of_thought import REASONING
from pipelines.optimizers.base import CallEstimate, Optimizer, check_inputs
from pipelines.optimizers.demo_sets import DemoSets, propose_demo_sets
from pipelines.optimizers.labels import LabelledDemos
from pipelines.optimizers.pareto import pareto_front, pick
from pipelines.optimizers.pools import pool_keys, pool_of
from pipelines.optimizers.presets import SearchSettings, estimate
from pipelines.optimizers.proposer import propose_instructions, summarize_training_data
from pipelines.optimizers.scorebook import ScoreBook
from pipelines.optimizers.search import Search, SearchState, TrialListener, trial_records
from pipelines.optimizers.search_space import Combination, PredictorCandidates, SearchSpace
from pipelines.optimizers.storage import StudyStore
from pipelines.optimizers.study import join_study, open_study, quiet_optuna, save_space, saved_space
from pipelines.parallel import beside
from pipelines.primitives import Example
from pipelines.state import omittable

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


@dataclass(frozen=True)
class _Candidates:
    """The search space, and what building it cost (nothing when a resumed study already holds it)."""

    space: SearchSpace
    proposed: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    bootstrap_runs: int = 0
    bootstrap_usage: Usage = field(default_factory=Usage)
    proposal_usage: Usage = field(default_factory=Usage)


class MIPRO(Optimizer):
    """`settings` is a preset name (light, medium, heavy; see `presets.AUTO`) or a `SearchSettings`, e.g.
    `SearchSettings.preset("light", num_trials=30)`. `objectives` starts with "quality" and may add "tokens"
    and/or "latency" (mean per example, cached calls included) for a multi-objective search. `study` keeps
    the Optuna study: an SQLite file's path, or a `StudyStore` that other workers share; `resume` continues
    the search stored there, and `join` works on a search another worker started (it waits for that worker
    to save its candidates, then takes trials until none is left). `proposal_lm` writes
    instructions (default: the configured LM). A spent `budget` ends the search with the best fully
    evaluated program so far."""

    def __init__(self, metric: Metric | Callable[..., Any], *, settings: str | SearchSettings = "light",
                 objectives: Sequence[str] = ("quality",), proposal_lm: LM | None = None, num_threads: int = 4,
                 budget: Budget | None = None, study: str | Path | StudyStore | None = None, resume: bool = False,
                 join: bool = False, listeners: Sequence[TrialListener] = (), seed: int = 0):
        self.metric = metric
        self.settings = settings
        self.objectives = objectives
        self.proposal_lm = proposal_lm
        self.num_threads = num_threads
        self.budget = budget
        self.study = study
        self.resume = resume
        self.join = join
        self.listeners = listeners
        self.seed = seed

    def estimate(self, program: Module, trainset: Sequence[Example],
                 valset: Sequence[Example] | None = None) -> CallEstimate:
        """Upper bounds of the program runs and LM calls `compile` would make: no LM call."""
        return estimate(SearchSettings.of(self.settings), num_predictors=len(program.named_predictors()),
                        train_size=len(trainset), val_size=len(valset or trainset))

    @quiet_optuna()
    def compile(self, program: Module, trainset: Sequence[Example], valset: Sequence[Example] | None = None) -> Module:
        check_inputs(program, trainset)
        costs = check_objectives(self.objectives)
        settings, metric = SearchSettings.of(self.settings), as_metric(self.metric)
        validation = self._validation(valset or trainset, settings)
        self.estimate_ = self.estimate(program, trainset, validation)
        store = self.study if isinstance(self.study, StudyStore | None) else StudyStore.local(self.study)
        inputs = _inputs(program, trainset, validation, settings, costs, metric, self.seed)
        startup_trials = max(2, settings.num_trials // 4)
        if self.join:
            if store is None or not store.shared:
                raise ValueError("joining a search needs the study it shares: a StudyStore in PostgreSQL or a "
                                 "journal file")
            study = join_study(store, seed=self.seed, startup_trials=startup_trials, inputs=inputs)
        else:
            study = open_study(store, directions=["maximize"] + ["minimize"] * len(costs), seed=self.seed,
                               startup_trials=startup_trials, resume=self.resume, inputs=inputs)
        book, stopped = ScoreBook(validation, settings.minibatch_size), False
        with track_usage() as total, self.budget or nullcontext():
            candidates = self._candidates(study, program, list(trainset), metric, settings)
            shared = store is not None and store.shared
            search = Search(SearchState(study, candidates.space, book, program, metric, settings, costs,
                                        self.num_threads, store.turn_lock() if store else threading.Lock(),
                                        part_size=settings.minibatch_size if shared else None), self.listeners)
            try:
                search.run()
            except BudgetExceeded as error:
                stopped = True
                log.warning("the search stopped early, the budget is spent (%s); returning the best fully "
                            "evaluated program so far", error)
        self.study_, self.search_space_, self.trials_ = study, candidates.space, trial_records(study)
        self.worker_trials_ = search.state.trials_run
        self.proposed_ = candidates.proposed
        self.stopped_by_budget_ = stopped or search.state.budget_limited
        self.usage_, self.proposal_usage_ = total.total, candidates.proposal_usage
        self.task_usage_ = search.state.task_usage + candidates.bootstrap_usage
        self.bootstrap_runs_ = candidates.bootstrap_runs
        self.program_runs_ = candidates.bootstrap_runs + sum(record.examples for record in self.trials_)
        choice = _choose(program, candidates.space, book, costs)
        self.best_program_, self.best_score_, self.best_combination_ = choice.program, choice.score, choice.combination
        self.baseline_score_, self.pareto_ = choice.baseline_score, choice.pareto
        for listener in self.listeners:
            listener.on_search_end(study, self.trials_, ("quality", *costs))
        return self.best_program_

    def report(self) -> dict[str, Any]:
        return {**super().report(), "proposal_lm_calls": self.proposal_usage_.calls, "trials": len(self.trials_),
                "proposed_instructions": self.proposed_,
                "search_score": self.best_score_,
                "pareto": [{"score": point.score, "tokens": point.tokens, "latency": point.latency}
                           for point in self.pareto_]}

    def _validation(self, valset: Sequence[Example], settings: SearchSettings) -> list[Example]:
        counts = Counter(example.example_id for example in valset)
        duplicates = sorted(example_id for example_id, count in counts.items() if count > 1)
        if duplicates:
            raise ValueError(f"validation examples need distinct ids; repeated: {duplicates[:5]}")
        if settings.val_size is None or len(valset) <= settings.val_size:
            return list(valset)
        chosen = set(random.Random(self.seed).sample(range(len(valset)), settings.val_size))
        return [example for index, example in enumerate(valset) if index in chosen]

    def _candidates(self, study, program: Module, trainset: list[Example], metric: Metric,
                    settings: SearchSettings) -> _Candidates:
        """The candidates saved in the study, or new ones (bootstrapped demos, proposed instructions)."""
        saved = saved_space(study)
        if saved is not None:
            return _Candidates(SearchSpace.from_dict(saved[0], program), saved[1])
        lm = self.proposal_lm or _proposal_lm()
        summarize = partial(_summary, trainset, lm, self.seed, settings.num_candidates > 1)
        with beside(summarize) as summarizing, track_usage() as bootstrap_usage:
            demo_sets = propose_demo_sets(program, trainset, metric, num_sets=settings.num_candidates,
                                          max_bootstrapped_demos=settings.max_bootstrapped_demos,
                                          max_labeled_demos=settings.max_labeled_demos,
                                          num_threads=self.num_threads, seed=self.seed)
        summary, summary_usage = summarizing.result()
        with track_usage() as proposal_usage:
            proposals = propose_instructions(program, demo_sets.sets, summary=summary,
                                             num_candidates=settings.num_candidates, lm=lm, seed=self.seed,
                                             num_threads=self.num_threads)
        labels = LabelledDemos(program)
        space = SearchSpace({name: PredictorCandidates(proposals.instructions[name], demo_sets.sets[name],
                                                       _demo_counts(demo_sets.sets[name], settings),
                                                       _reasoning_choices(predictor, settings),
                                                       *_pool(name, predictor, trainset, demo_sets, labels, settings))
                             for name, predictor in program.named_predictors()}, program)
        save_space(study, space.to_dict(), proposals.proposed)
        return _Candidates(space, proposals.proposed, demo_sets.program_runs, bootstrap_usage.total,
                           summary_usage + proposal_usage.total)


@dataclass(frozen=True)
class _Choice:
    program: Module
    score: float | None
    combination: Combination | None
    baseline_score: float | None
    pareto: list[ParetoPoint]


def _choose(program: Module, space: SearchSpace, book: ScoreBook, costs: tuple[str, ...]) -> _Choice:
    """The program to return, by the pick rule over the fully scored combinations, and their Pareto set."""
    full = {combination: record for combination, record in book.records.items() if book.is_full(combination)}
    baseline = book.get(space.original).score if space.original in full else None
    if not full:
        log.warning("no combination was scored on the whole validation set; returning the program as given")
        return _Choice(program.deepcopy(), None, None, baseline, [])
    chosen = pick(full, costs)
    front = pareto_front(full, costs) if costs else [chosen]
    pareto = [ParetoPoint(space.build(program, combination), combination, full[combination].score,
                          full[combination].standard_error, full[combination].tokens, full[combination].latency)
              for combination in front]
    return _Choice(space.build(program, chosen), full[chosen].score, chosen, baseline, pareto)


def _demo_counts(demo_sets: list[list[Example]], settings: SearchSettings) -> tuple[int, ...]:
    """1, 2, 4, ... and the largest set's size: the numbers of demos the search may show."""
    largest = max((len(demo_set) for demo_set in demo_sets), default=0)
    if not settings.search_demo_counts or largest < 2:
        return ()
    counts = [1]
    while counts[-1] * 2 < largest:
        counts.append(counts[-1] * 2)
    return (*counts, largest)


def _pool(name: str, predictor: Predictor, trainset: list[Example], demo_sets: DemoSets, labels: LabelledDemos,
          settings: SearchSettings) -> tuple[list[Example], tuple[str, ...], tuple[str, ...]]:
    """The demos, key fields and similarities of the predictor's nearest-demos choices; none when the search
    has no such choice."""
    if not settings.search_nearest_demos:
        return [], (), settings.nearest_similarities
    keys = pool_keys(predictor, trainset)
    return (pool_of(keys, demo_sets.runs.get(name, []), labels.of(name, predictor, trainset)), keys,
            settings.nearest_similarities)


def _reasoning_choices(predictor: Predictor, settings: SearchSettings) -> tuple[bool, ...]:
    """Whether the step reasons, its own way first, and the other way when the search may choose it."""
    reasons = REASONING not in predictor.omitted
    if not settings.search_reasoning or not omittable(predictor, [REASONING]):
        return (reasons,)
    return reasons, not reasons


def check_objectives(objectives: Sequence[str]) -> tuple[str, ...]:
    """The cost objectives after "quality", or a ValueError naming what is wrong."""
    objectives = tuple(objectives)
    if not objectives or objectives[0] != "quality" or any(name not in COSTS for name in objectives[1:]):
        raise ValueError(f"objectives must be 'quality' followed by any of {', '.join(COSTS)}; "
                         f"got {', '.join(objectives) or 'none'}")
    return objectives[1:]


def _summary(trainset: Sequence[Example], lm: LM, seed: int, wanted: bool) -> tuple[str, Usage]:
    """The training-data summary proposals ground in, and what writing it cost (counted apart from the
    bootstrapping it runs beside)."""
    with track_usage() as usage:
        summary = summarize_training_data(trainset, lm, seed) if wanted else ""
    return summary, usage.total


def _proposal_lm() -> LM:
    """The configured LM, warmer for varied proposals and capped so a rambling reply stays short."""
    return current_lm().copy(temperature=PROPOSAL_TEMPERATURE, max_tokens=PROPOSAL_MAX_TOKENS)


def _inputs(program: Module, trainset: Sequence[Example], validation: Sequence[Example], settings: SearchSettings,
            costs: tuple[str, ...], metric: Metric, seed: int) -> dict[str, Any]:
    """What a resumed search must share with the one it continues."""
    def ids(examples: Sequence[Example]) -> str:
        return hashlib.sha256(json.dumps([e.example_id for e in examples]).encode()).hexdigest()[:16]

    stored_settings = json.loads(json.dumps(asdict(settings)))  # as the study keeps them: tuples as lists
    return {"program": program.fingerprint(), "train": ids(trainset), "validation": ids(validation),
            "settings": stored_settings, "objectives": ["quality", *costs], "metric": metric.name, "seed": seed}
