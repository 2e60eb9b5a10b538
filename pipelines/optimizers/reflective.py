"""`GEPA`: reflective instruction search in the manner of Agrawal et al. (2025), "GEPA: Reflective Prompt
Evolution Can Outperform Reinforcement Learning", run by the `gepa` package through its adapter interface.

Each iteration picks a program from the Pareto front (a candidate stays while it is best on some validation
example), runs it on a minibatch of training examples, shows one step's inputs, outputs and the metric's
feedback to the LM, which rewrites that step's instruction; a rewrite that scores higher on the minibatch is
scored on the validation set and joins the front. The metric may return `Feedback` (a score with text);
otherwise the feedback says what the program answered and what was expected.

Resuming replays the search from the LM cache (every call repeats, so each is a hit) rather than from gepa's
own checkpoints: those are pickles, and sigflow loads no pickle from disk."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from pipelines.config import current_lm
from pipelines.evaluation.metrics import Feedback, Metric, as_metric
from pipelines.fieldtypes import render
from pipelines.lm.budget import Budget, active_budgets
from pipelines.lm.client import LM
from pipelines.lm.errors import BudgetExceeded
from pipelines.lm.usage import Usage, track_usage
from pipelines.modules import Module
from pipelines.modules.trace import TraceStep, collect_trace
from pipelines.optimizers.base import CallEstimate, Optimizer, check_inputs
from pipelines.parallel import parallel_map
from pipelines.primitives import Example

log = logging.getLogger(__name__)

REFLECTION_TEMPERATURE = 0.7
REFLECTION_MAX_TOKENS = 400
VALUE_CHARS = 600  # of each input shown to the reflecting LM: three passages, not a whole corpus


@dataclass(frozen=True)
class CandidateRecord:
    """A program the search scored on the whole validation set."""

    index: int
    parents: list[int]
    instructions: dict[str, str]
    score: float
    scores: dict[int, float]
    """Per validation example (by position), what the Pareto front is kept over."""


class CandidateListener:
    """Told of each fully scored candidate (to record it elsewhere, such as MLflow); does nothing here."""

    def on_candidate(self, record: CandidateRecord) -> None:
        """A candidate was scored on the validation set."""


@dataclass(frozen=True)
class _Rollout:
    outputs: dict[str, Any] | None
    score: float
    feedback: str
    steps: list[tuple[str, TraceStep]]
    """Each step the run took, by the name of the predictor that took it."""


class GEPA(Optimizer):
    """Rewrites instructions until `max_metric_calls` program runs (minibatch and validation runs alike; gepa
    checks it between iterations, so the last may pass it) are spent or the `budget` cannot pay for another
    iteration. `reflection_lm` writes the rewrites (default: the
    configured LM, warmer). Returns the candidate with the best validation score."""

    def __init__(self, metric: Metric | Callable[..., Any], *, max_metric_calls: int = 200,
                 reflection_lm: LM | None = None, minibatch_size: int = 3, num_threads: int = 4,
                 budget: Budget | None = None, listeners: Sequence[CandidateListener] = (), seed: int = 0):
        self.metric = metric
        self.max_metric_calls = max_metric_calls
        self.reflection_lm = reflection_lm
        self.minibatch_size = minibatch_size
        self.num_threads = num_threads
        self.budget = budget
        self.listeners = listeners
        self.seed = seed

    def estimate(self, program: Module, trainset: Sequence[Example],
                 valset: Sequence[Example] | None = None) -> CallEstimate:
        """Every metric call is a program run; each iteration (two minibatches at least) adds one rewrite."""
        return CallEstimate(validation_runs=self.max_metric_calls,
                            proposal_calls=self.max_metric_calls // (2 * self.minibatch_size),
                            lm_calls_per_run=len(program.named_predictors()))

    def compile(self, program: Module, trainset: Sequence[Example],
                valset: Sequence[Example] | None = None) -> Module:
        import gepa

        check_inputs(program, trainset)
        if self.max_metric_calls < 1 or self.minibatch_size < 1:
            raise ValueError("max_metric_calls and minibatch_size must be at least 1")
        validation = list(valset or trainset)
        _warn_if_no_rewrite_fits(self.max_metric_calls, self.minibatch_size, len(validation))
        adapter = _ProgramAdapter(program, as_metric(self.metric), self.num_threads)
        seed_candidate = {name: predictor.signature.instructions for name, predictor in program.named_predictors()}
        reflection = self.reflection_lm or current_lm().copy(temperature=REFLECTION_TEMPERATURE,
                                                             max_tokens=REFLECTION_MAX_TOKENS)
        stop = _BudgetStop(adapter, self.minibatch_size, len(validation))
        with track_usage() as usage, self.budget or nullcontext():
            result = gepa.optimize(
                seed_candidate=seed_candidate, trainset=list(trainset), valset=validation, adapter=adapter,
                reflection_lm=_Reflector(reflection), reflection_minibatch_size=self.minibatch_size,
                max_metric_calls=self.max_metric_calls, stop_callbacks=[stop], seed=self.seed,
                candidate_selection_strategy="pareto", frontier_type="instance", skip_perfect_score=False,
                callbacks=[_Relay(self.listeners)], logger=_Log(), raise_on_exception=True)
        self.usage_ = usage.total
        self.candidates_ = [CandidateRecord(index, [parent for parent in parents if parent is not None],
                                            dict(candidate), score, dict(scores))
                            for index, (candidate, parents, score, scores) in enumerate(zip(
                                result.candidates, result.parents, result.val_aggregate_scores,
                                result.val_subscores, strict=True))]
        self.pareto_ = sorted({index for indices in result.per_val_instance_best_candidates.values()
                               for index in indices})
        self.best_index_ = result.best_idx
        self.best_score_, self.baseline_score_ = result.val_aggregate_scores[result.best_idx], \
            result.val_aggregate_scores[0]
        self.program_runs_ = adapter.runs
        self.stopped_by_budget_ = stop.stopped
        self.best_program_ = _with_instructions(program, result.best_candidate)
        return self.best_program_

    def report(self) -> dict[str, Any]:
        return {**super().report(), "candidates": len(self.candidates_), "search_score": self.best_score_,
                "pareto": [{"candidate": index, "score": self.candidates_[index].score} for index in self.pareto_],
                "instructions": self.candidates_[self.best_index_].instructions}


def _warn_if_no_rewrite_fits(max_metric_calls: int, minibatch_size: int, validation_size: int) -> None:
    """The seed is scored on every validation example first; a rewrite needs two minibatches and another pass
    over them. A budget too small for that spends itself on the seed, which a user should hear of."""
    needed = 2 * validation_size + 2 * minibatch_size
    if max_metric_calls < needed:
        log.warning("GEPA's %d metric calls leave no room to score a rewrite on %d validation examples after "
                    "the seed (that needs %d): pass fewer validation examples or raise max_metric_calls.",
                    max_metric_calls, validation_size, needed)


def _with_instructions(program: Module, candidate: Mapping[str, str]) -> Module:
    built = program.deepcopy()
    for name, predictor in built.named_predictors():
        predictor.signature = predictor.signature.with_instructions(candidate[name])
    return built


class _ProgramAdapter:
    """gepa's `GEPAAdapter`: runs the program with a candidate's instructions and tells the reflecting LM what
    each step saw and wrote. `propose_new_texts` is None, so gepa's own rewrite prompt is used."""

    propose_new_texts = None

    def __init__(self, program: Module, metric: Metric, num_threads: int):
        self.program = program
        self.metric = metric
        self.num_threads = num_threads
        self.runs = 0
        self.usage = Usage()
        self.spent = False

    def evaluate(self, batch: list[Example], candidate: dict[str, str], capture_traces: bool = False):
        from gepa import EvaluationBatch

        built = _with_instructions(self.program, candidate)
        names = {id(predictor): name for name, predictor in built.named_predictors()}
        with track_usage() as usage:
            rollouts = parallel_map(lambda example: self._rollout(built, names, example), batch,
                                    num_threads=self.num_threads)
        self.runs += len(batch)
        self.usage += usage.total
        return EvaluationBatch(outputs=[rollout.outputs for rollout in rollouts],
                               scores=[rollout.score for rollout in rollouts],
                               trajectories=rollouts if capture_traces else None)

    def _rollout(self, program: Module, names: dict[int, str], example: Example) -> _Rollout:
        with collect_trace() as steps:
            try:
                outputs = program(**example.inputs()).to_dict()
            except BudgetExceeded:
                self.spent = True
                return _Rollout(None, 0.0, "not run: the budget is spent", [])
            except Exception as failure:  # a failed run is the program's wrong answer, with its reason
                outputs, failed = None, f"the program failed: {type(failure).__name__}: {failure}"
        named = [(names[id(step.predictor)], step) for step in steps if id(step.predictor) in names]
        if outputs is None:
            return _Rollout(None, 0.0, failed, named)
        scored = self.metric.score(example, outputs)
        return _Rollout(outputs, float(scored), _feedback(example, outputs, scored), named)

    def make_reflective_dataset(self, candidate: dict[str, str], eval_batch, components_to_update: list[str]
                                ) -> dict[str, list[dict[str, Any]]]:
        """Per step to rewrite: each run's inputs and outputs of that step, and the feedback on the run."""
        dataset: dict[str, list[dict[str, Any]]] = {name: [] for name in components_to_update}
        for rollout in eval_batch.trajectories or []:
            for name, step in rollout.steps:
                if name in dataset:
                    dataset[name].append({
                        "Inputs": {key: render(value)[:VALUE_CHARS] for key, value in step.inputs.items()},
                        "Generated Outputs": {key: render(value) for key, value in step.outputs.items()},
                        "Feedback": rollout.feedback})
        return dataset


def _feedback(example: Example, outputs: Mapping[str, Any], scored: float) -> str:
    """The metric's own text, else what was expected beside what the program wrote."""
    if isinstance(scored, Feedback):
        return scored.text
    expected = "; ".join(f"{name}: {render(value)}" for name, value in example.labels().items()
                         if name in outputs)
    written = "; ".join(f"{name}: {render(outputs[name])}" for name in example.labels() if name in outputs)
    verdict = "right" if float(scored) >= 1 else "partly right" if float(scored) > 0 else "wrong"
    return f"The answer was {verdict} (score {float(scored):.2f}). Expected {expected or 'no labelled output'}; " \
           f"the program wrote {written or 'nothing comparable'}."


@dataclass
class _BudgetStop:
    """gepa's stop condition: the budget is spent, or cannot pay for another iteration (two minibatches and
    a validation pass, at the calls per run seen so far)."""

    adapter: _ProgramAdapter
    minibatch_size: int
    validation_size: int
    stopped: bool = False

    def __call__(self, gepa_state: Any) -> bool:
        runs = self.adapter.runs
        needed_runs = 2 * self.minibatch_size + self.validation_size
        calls = self.adapter.usage.calls / runs * needed_runs + 1 if runs else needed_runs
        affordable = all(budget.remaining_calls is None or budget.remaining_calls >= calls
                         for budget in active_budgets())
        self.stopped = self.stopped or self.adapter.spent or not affordable
        return self.stopped


@dataclass(frozen=True)
class _Reflector:
    """gepa's language model: a prompt (text or messages) through sigflow's LM door (cached, budgeted)."""

    lm: LM

    def __call__(self, prompt: str | list[dict[str, Any]]) -> str:
        messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
        return self.lm.complete(messages).text


@dataclass
class _Relay:
    """gepa's callback: each validation pass becomes a `CandidateRecord` for the listeners."""

    listeners: Sequence[CandidateListener] = field(default_factory=tuple)

    def on_valset_evaluated(self, event: Mapping[str, Any]) -> None:
        scores = dict(event["scores_by_val_id"])
        record = CandidateRecord(event["candidate_idx"], [p for p in event["parent_ids"] if p is not None],
                                 dict(event["candidate"]), float(event["average_score"]), scores)
        for listener in self.listeners:
            listener.on_candidate(record)


class _Log:
    """gepa's logger, into this module's log instead of standard output."""

    def log(self, message: str) -> None:
        log.info("%s", message)
