"""The trial loop of the instruction-and-demo search, on an Optuna study, for one worker or many.

Order of work: the anchors on the whole validation set (the original program, then its instructions with
the demos BootstrapFewShot would give it), so the search never returns less than either; then `num_trials`
sampler-chosen combinations, each scored on the next minibatch it has not seen (a combination chosen again is
scored on new examples, never the same ones twice); and, spread over the search, full evaluations of the most
promising combination so far. Every trial is stored with its per-example scores, and a running trial with
the examples it claimed, so any worker rebuilds the state of the search from the study before it takes its
next trial: a resumed search, or a worker that joins one, only does what is left."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import optuna
from optuna.trial import TrialState
from tqdm import tqdm

from pipelines.evaluation.evaluate import EvaluationResult, evaluate
from pipelines.evaluation.metrics import Metric
from pipelines.lm.budget import active_budgets
from pipelines.lm.usage import Usage
from pipelines.modules import Module
from pipelines.optimizers.pareto import pareto_front
from pipelines.optimizers.presets import SearchSettings
from pipelines.optimizers.scorebook import ExampleCost, ScoreBook
from pipelines.optimizers.search_space import Combination, SearchSpace, combination_key
from pipelines.optimizers.storage import TurnLock
from pipelines.optimizers.study import finished_trials

ORIGINAL, BOOTSTRAPPED, MINIBATCH, REPEAT, FULL = "original", "bootstrapped", "minibatch", "repeat", "full"
SEARCH_KINDS = (MINIBATCH, REPEAT)
KIND_ATTR = "kind"
PLANNED_ATTR = "sigflow.planned"  # the choices a trial was queued with, when they were fixed
CLAIMED_ATTR = "sigflow.claimed"
WORKER_ATTR = "sigflow.worker"  # host and process that ran the trial
WAIT_SECONDS = 3.0  # how often a worker with nothing to claim looks again while others' trials run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrialRecord:
    """One trial: what it chose, what it scored (`minibatch_score` on this trial's examples, `score` over
    every example the combination has seen, a full score when `full`) and what it cost."""

    number: int
    kind: str
    combination: str
    params: dict[str, int]
    examples: int
    minibatch_score: float | None
    score: float
    seen: int
    full: bool
    tokens: float
    latency: float
    lm_calls: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float

    @classmethod
    def from_trial(cls, trial: optuna.trial.FrozenTrial) -> TrialRecord:
        attrs = trial.user_attrs
        return cls(number=trial.number, params=dict(trial.params),
                   **{name: attrs[name] for name in cls.__dataclass_fields__ if name not in ("number", "params")})


class TrialListener:
    """Told of each finished trial and of the search's end (to record them elsewhere); both do nothing here."""

    def on_trial(self, record: TrialRecord, space: SearchSpace) -> None:
        """A trial finished; `space` says what its combination chose."""

    def on_search_end(self, study: optuna.Study, trials: Sequence[TrialRecord], objectives: Sequence[str]) -> None:
        """The search finished (or stopped for its budget) with these trials."""


@dataclass
class SearchState:
    """What the loop works on. The score book is rebuilt from the study before each trial; the usage and
    budget flag are this worker's own."""

    study: optuna.Study
    space: SearchSpace
    book: ScoreBook
    program: Module
    metric: Metric
    settings: SearchSettings
    costs: tuple[str, ...]
    num_threads: int
    turn_lock: TurnLock = field(default_factory=threading.Lock)
    part_size: int | None = None
    """With several workers, an anchor or full evaluation is scored in trials of this many examples, so that
    they share it; None: one trial scores it all."""
    budget_limited: bool = False
    examples_run: int = 0
    task_usage: Usage = field(default_factory=Usage)
    trials_run: int = 0


@dataclass(frozen=True)
class Progress:
    """Trials by kind over every worker: `started` counts the queued, running and finished ones."""

    started: Counter
    finished: Counter
    running: int
    waiting: int
    full_combinations: frozenset
    """The combinations a full evaluation was started for."""

    @property
    def search_started(self) -> int:
        return sum(self.started[kind] for kind in SEARCH_KINDS)

    @property
    def search_finished(self) -> int:
        return sum(self.finished[kind] for kind in SEARCH_KINDS)


class _Turn:
    """The turn lock, held from planning a trial until its examples are claimed, and released then."""

    def __init__(self, lock: TurnLock):
        self.lock, self.held = lock, False

    def __enter__(self) -> _Turn:
        self.lock.acquire()
        self.held = True
        return self

    def release(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()

    def __exit__(self, *_: object) -> None:
        self.release()


class Search:
    def __init__(self, state: SearchState, listeners: Sequence[TrialListener] = ()):
        self.state = state
        self.listeners = list(listeners)
        self.choices = state.space.choices()
        self._turn: _Turn | None = None
        self._finished: TrialRecord | None = None

    def run(self) -> None:
        """Take trials until none is left to start; then wait for those other workers still run."""
        settings = self.state.settings
        total = len(self._anchors()) + settings.num_trials + settings.num_full_evals
        with tqdm(total=total, desc="search trials", unit="trial") as bar:
            while True:
                progress, ran = self._next()
                whole = [*self._anchors().values(), *progress.full_combinations]
                bar.n = progress.search_finished + sum(self.state.book.is_full(combination) for combination in whole)
                bar.refresh()
                if ran:
                    continue
                if not (progress.running or progress.waiting):
                    return
                time.sleep(WAIT_SECONDS)

    def _next(self) -> tuple[Progress, bool]:
        """Under the turn lock: rebuild the state, and start the next trial if there is one to start. The
        progress returned is the one the trial was planned on; the next call rebuilds it anyway."""
        state = self.state
        with _Turn(state.turn_lock) as turn:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(state.study)  # only with a heartbeat: a shared study
            progress = self._refresh()
            if not progress.waiting:
                planned = self._plan(progress)
                if planned is None:
                    return progress, False
                kind, fixed = planned
                params = state.space.params(fixed) if fixed is not None else {}
                state.study.enqueue_trial(params, user_attrs={KIND_ATTR: kind, PLANNED_ATTR: params})
            self._turn, self._finished = turn, None
            state.study.optimize(self._objective, n_trials=1)
        record = self._finished
        if record is not None:
            state.trials_run += 1
            for listener in self.listeners:
                listener.on_trial(record, state.space)
        return progress, True

    def _refresh(self) -> Progress:
        """The score book and the trial counts, from every trial in the study."""
        state = self.state
        state.book.clear()
        started, finished, running, waiting, full = Counter(), Counter(), 0, 0, set()
        for trial in state.study.get_trials(deepcopy=False):
            kind = trial.user_attrs.get(KIND_ATTR)
            if kind == FULL and trial.state in (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING):
                full.add(state.space.combination(trial.user_attrs[PLANNED_ATTR]))
            if trial.state == TrialState.COMPLETE:
                state.book.restore(state.space.combination(trial.params), {
                    example_id: ExampleCost(*cost) for example_id, cost in trial.user_attrs.get("scored", {}).items()})
                finished[kind] += 1
            elif trial.state == TrialState.RUNNING:
                running += 1
                if CLAIMED_ATTR in trial.user_attrs:
                    state.book.claim(state.space.combination(trial.params), trial.user_attrs[CLAIMED_ATTR])
            elif trial.state == TrialState.WAITING:
                waiting += 1
            else:
                continue
            started[kind] += 1
        return Progress(started, finished, running, waiting, frozenset(full))

    def _plan(self, progress: Progress) -> tuple[str, Combination | None] | None:
        """The kind of the next trial (and its combination, unless the sampler chooses it); None when there
        is none to start now."""
        settings, book = self.state.settings, self.state.book
        for kind, combination in self._anchors().items():
            if not progress.started[kind] and (kind == ORIGINAL or self._affordable(progress, anchor=True)):
                return kind, combination
            if progress.started[kind] and book.unseen(combination):  # scored in parts: the next part
                return kind, combination
        for combination in progress.full_combinations:
            if book.unseen(combination):
                return FULL, combination
        started_full = len(progress.full_combinations)
        due = min(settings.num_full_evals, progress.search_finished // settings.full_eval_every)
        if started_full < due and (promising := self._most_promising(progress)) is not None:
            return FULL, promising
        if progress.search_started < settings.num_trials and self._affordable(progress):
            return MINIBATCH, None
        # The full evaluations owed once every search trial is in (or the budget pays for no more of them).
        if started_full < settings.num_full_evals and progress.search_started == progress.search_finished:
            promising = self._most_promising(progress)
            return (FULL, promising) if promising is not None else None
        return None

    def _anchors(self) -> dict[str, Combination]:
        """Combinations scored on every validation example before the sampler starts."""
        anchors = {ORIGINAL: self.state.space.original}
        if self.state.space.bootstrapped is not None:
            anchors[BOOTSTRAPPED] = self.state.space.bootstrapped
        return anchors

    def _affordable(self, progress: Progress, anchor: bool = False) -> bool:
        """Whether the active budgets can pay for one more minibatch (or anchor) and still for the full
        evaluations owed, at the calls and tokens per example seen so far. A search short of budget stops
        early rather than end without a fully scored candidate."""
        state, settings = self.state, self.state.settings
        owed = max(0, settings.num_full_evals - len(progress.full_combinations))
        validation = len(state.book.valset)
        next_step = validation if anchor else settings.minibatch_size
        examples = next_step + owed * max(0, validation - settings.minibatch_size)
        if state.examples_run:
            calls = state.task_usage.calls / state.examples_run * examples
            tokens = state.task_usage.total_tokens / state.examples_run * examples
        else:  # nothing measured yet in this process (a resumed search): one call per predictor
            calls, tokens = len(state.space.predictors) * examples, 0
        affordable = all((budget.remaining_calls is None or budget.remaining_calls >= calls)
                         and (budget.remaining_tokens is None or budget.remaining_tokens >= tokens)
                         for budget in active_budgets())
        if not affordable and not state.budget_limited:
            state.budget_limited = True
            log.warning("the budget cannot pay for more trials and the full evaluations owed; stopping at "
                        "%d of %d minibatch trials", progress.search_started, settings.num_trials)
        return affordable

    def _most_promising(self, progress: Progress) -> Combination | None:
        """The partly scored combination to score on every validation example next; None if none is left."""
        book = self.state.book
        partial = {combination: record for combination, record in book.records.items() if book.unseen(combination)}
        if not partial:
            return None
        front = pareto_front(partial, self.state.costs)
        # With costs, alternate between the best quality and the cheapest point of the front.
        return front[-1] if self.state.costs and len(progress.full_combinations) % 2 else front[0]

    def _objective(self, trial: optuna.Trial) -> list[float]:
        """Claim the trial's examples, let other workers take their turn, score them."""
        state = self.state
        kind = trial.user_attrs.get(KIND_ATTR, MINIBATCH)
        params = {name: trial.suggest_categorical(name, values) for name, values in self.choices.items()}
        combination = state.space.combination(params)
        if kind == MINIBATCH:
            examples = state.book.next_batch(combination)
            kind = MINIBATCH if examples else REPEAT
        else:
            examples = state.book.unseen(combination)[:state.part_size]
        trial.set_user_attr(KIND_ATTR, kind)
        trial.set_user_attr(CLAIMED_ATTR, [example.example_id for example in examples])
        trial.set_user_attr(WORKER_ATTR, f"{socket.gethostname()}:{os.getpid()}")
        self._turn.release()
        result = (evaluate(state.space.build(state.program, combination), examples, state.metric,
                           num_threads=state.num_threads, description=None) if examples else None)
        if result is not None:
            state.book.record(combination, result.results)
            state.task_usage += result.usage
            state.examples_run += result.n
        record = self._record(trial.number, kind, combination, params, result)
        for name, value in {**asdict(record), "scored": _scored(result)}.items():
            if name not in ("number", "params"):
                trial.set_user_attr(name, value)
        self._finished = record
        combined = state.book.get(combination)
        return [combined.score, *(combined.objective(cost) for cost in state.costs)]

    def _record(self, number: int, kind: str, combination: Combination, params: dict[str, Any],
                result: EvaluationResult | None) -> TrialRecord:
        combined = self.state.book.get(combination)
        usage = result.usage if result is not None else Usage()
        return TrialRecord(
            number=number, kind=kind, combination=combination_key(combination), params=dict(params),
            examples=result.n if result else 0, minibatch_score=result.score if result else None,
            score=combined.score, seen=combined.n, full=self.state.book.is_full(combination),
            tokens=combined.tokens, latency=combined.latency, lm_calls=usage.calls, cache_hits=usage.cache_hits,
            prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
            seconds=result.seconds if result else 0.0)


def _scored(result: EvaluationResult | None) -> dict[str, list[float]]:
    """Per-example score, tokens and latency, kept in the study so a resumed search knows what was scored."""
    if result is None:
        return {}
    return {item.example_id: [item.score, item.usage.work_tokens, item.usage.work_latency_seconds]
            for item in result.results}


def trial_records(study: optuna.Study) -> list[TrialRecord]:
    return [TrialRecord.from_trial(trial) for trial in finished_trials(study)]
