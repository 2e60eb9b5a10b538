"""The trial loop of the instruction-and-demo search, on an Optuna study with ask and tell.

Order of work: the anchors on the whole validation set (the original program, then its instructions with
the demos BootstrapFewShot would give it), so the search never returns less than either; then `num_trials`
sampler-chosen combinations, each scored on the next minibatch it has not seen (a combination chosen again is scored on
new examples, never the same ones twice); and, spread over the search, full evaluations of the most
promising combination so far. Every trial is stored with its per-example scores, so a resumed search
rebuilds its state from the study and only does what is left."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution
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
from pipelines.optimizers.study import finished_trials

ORIGINAL, BOOTSTRAPPED, MINIBATCH, REPEAT, FULL = "original", "bootstrapped", "minibatch", "repeat", "full"

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
    """What the loop works on; the counters are rebuilt from the study when a search resumes."""

    study: optuna.Study
    space: SearchSpace
    book: ScoreBook
    program: Module
    metric: Metric
    settings: SearchSettings
    costs: tuple[str, ...]
    num_threads: int
    anchors_done: set[str] = field(default_factory=set)
    search_trials: int = 0
    full_evals: int = 0
    budget_limited: bool = False
    examples_run: int = 0
    task_usage: Usage = field(default_factory=Usage)


class Search:
    def __init__(self, state: SearchState, listeners: Sequence[TrialListener] = ()):
        self.state = state
        self.listeners = list(listeners)
        self.distributions = {name: CategoricalDistribution(values) for name, values in state.space.choices().items()}
        self._restore()

    def run(self) -> None:
        state, settings = self.state, self.state.settings
        anchors = self._anchors()
        total = len(anchors) + settings.num_trials + settings.num_full_evals
        done = len(state.anchors_done) + state.search_trials + state.full_evals
        with tqdm(total=total, initial=done, desc="search trials", unit="trial") as progress:
            for kind, combination in anchors.items():
                if kind in state.anchors_done or (kind != ORIGINAL and not self._affordable(anchor=True)):
                    continue
                self._trial(kind, combination)
                state.anchors_done.add(kind)
                progress.update(1)
            while state.search_trials < settings.num_trials and self._affordable():
                self._trial(MINIBATCH, None)
                state.search_trials += 1
                progress.update(1)
                if state.search_trials % settings.full_eval_every == 0 and self._full_evaluation():
                    progress.update(1)
            while state.full_evals < settings.num_full_evals and self._full_evaluation():
                progress.update(1)

    def _anchors(self) -> dict[str, Combination]:
        """Combinations scored on every validation example before the sampler starts."""
        anchors = {ORIGINAL: self.state.space.original}
        if self.state.space.bootstrapped is not None:
            anchors[BOOTSTRAPPED] = self.state.space.bootstrapped
        return anchors

    def _affordable(self, anchor: bool = False) -> bool:
        """Whether the active budgets can pay for one more minibatch (or anchor) and still for the full
        evaluations owed, at the calls and tokens per example seen so far. A search short of budget stops
        early rather than end without a fully scored candidate."""
        state, settings = self.state, self.state.settings
        owed = settings.num_full_evals - state.full_evals
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
        if not affordable:
            state.budget_limited = True
            log.warning("the budget cannot pay for more trials and the full evaluations owed; stopping at "
                        "%d of %d minibatch trials", state.search_trials, settings.num_trials)
        return affordable

    def _full_evaluation(self) -> bool:
        """Score the most promising partly scored combination on every validation example; False if none."""
        state = self.state
        if state.full_evals >= state.settings.num_full_evals:
            return False
        partial = {combination: record for combination, record in state.book.records.items()
                   if not state.book.is_full(combination)}
        if not partial:
            return False
        front = pareto_front(partial, state.costs)
        # With costs, alternate between the best quality and the cheapest point of the front.
        chosen = front[-1] if state.costs and state.full_evals % 2 else front[0]
        self._trial(FULL, chosen)
        state.full_evals += 1
        return True

    def _trial(self, kind: str, fixed: Combination | None) -> TrialRecord:
        state = self.state
        if fixed is not None:
            state.study.enqueue_trial(state.space.params(fixed))
        trial = state.study.ask(self.distributions)
        combination = state.space.combination(trial.params)
        if kind == MINIBATCH:
            examples = state.book.next_batch(combination)
            kind = MINIBATCH if examples else REPEAT
        else:
            examples = state.book.unseen(combination)
        try:
            result = (evaluate(state.space.build(state.program, combination), examples, state.metric,
                               num_threads=state.num_threads, description=None) if examples else None)
        except BaseException:
            state.study.tell(trial, state=TrialState.FAIL)
            raise
        if result is not None:
            state.book.record(combination, result.results)
            state.task_usage += result.usage
            state.examples_run += result.n
        record = self._record(trial.number, kind, combination, trial.params, result)
        for name, value in {**asdict(record), "scored": _scored(result)}.items():
            if name not in ("number", "params"):
                trial.set_user_attr(name, value)
        combined = state.book.get(combination)
        state.study.tell(trial, [combined.score, *(combined.objective(cost) for cost in state.costs)])
        for listener in self.listeners:
            listener.on_trial(record, state.space)
        return record

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

    def _restore(self) -> None:
        state = self.state
        for trial in finished_trials(state.study):
            combination = state.space.combination(trial.params)
            state.book.restore(combination, {example_id: ExampleCost(*cost)
                                             for example_id, cost in trial.user_attrs.get("scored", {}).items()})
            kind = trial.user_attrs.get("kind")
            if kind in (ORIGINAL, BOOTSTRAPPED):
                state.anchors_done.add(kind)
            state.search_trials += kind in (MINIBATCH, REPEAT)
            state.full_evals += kind == FULL


def _scored(result: EvaluationResult | None) -> dict[str, list[float]]:
    """Per-example score, tokens and latency, kept in the study so a resumed search knows what was scored."""
    if result is None:
        return {}
    return {item.example_id: [item.score, item.usage.work_tokens, item.usage.work_latency_seconds]
            for item in result.results}


def trial_records(study: optuna.Study) -> list[TrialRecord]:
    return [TrialRecord.from_trial(trial) for trial in finished_trials(study)]
