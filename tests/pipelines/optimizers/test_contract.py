"""The protocol every optimizer keeps (as scikit-learn's `check_estimator` checks estimators): one way to call
them, constructors that only store, `compile` that leaves the user's program alone and sets what it learned,
and an estimate made without an LM call."""

import inspect
import json

import pytest

from pipelines import Example, Predict, ScriptedLM, accuracy, context
from pipelines.optimizers import MIPRO, BootstrapFewShot, BootstrapRandomSearch, LabeledFewShot, Optimizer
from pipelines.optimizers.base import CallEstimate
from pipelines.optimizers.presets import SearchSettings
from tests.pipelines.optimizers.test_few_shot import CAPITALS, TRAIN

SMALL_SEARCH = SearchSettings(num_candidates=3, num_trials=2, minibatch_size=2, val_size=None, num_full_evals=1,
                              max_bootstrapped_demos=1, max_labeled_demos=1)


def _optimizers() -> list[Optimizer]:
    metric = accuracy("capital")
    return [LabeledFewShot(k=2), BootstrapFewShot(metric, max_bootstrapped_demos=1, num_threads=1),
            BootstrapRandomSearch(metric, num_candidates=1, max_bootstrapped_demos=1, num_threads=1),
            MIPRO(metric, settings=SMALL_SEARCH, num_threads=1)]


def _right_only_with_demos(messages) -> str:
    """Knows capitals only when shown an example; proposals and summaries get plausible replies."""
    last = messages[-1]["content"]
    if last.startswith("examples:"):
        return "summary: Countries and their capitals."
    if last.startswith("task_summary:"):
        return "instruction: Name the capital city of the country."
    country = last.split(": ", 1)[1]
    return f"capital: {CAPITALS[country] if len(messages) > 2 else 'Atlantis'}"


@pytest.mark.parametrize("optimizer", _optimizers(), ids=lambda optimizer: type(optimizer).__name__)
def test_every_optimizer_keeps_the_contract(optimizer):
    """Constructors store their arguments unchanged; compile(program, trainset, valset) leaves the user's
    program alone, returns a new one, and keeps what it learned in attributes ending in `_`."""
    stored = {name: getattr(optimizer, name) for name in inspect.signature(type(optimizer)).parameters}
    assert not [name for name in vars(optimizer) if name.endswith("_")]
    program = Predict("country -> capital")
    before = program.fingerprint()
    with ScriptedLM(responder=_right_only_with_demos) as fake, context(lm=fake.lm()):
        compiled = optimizer.compile(program, TRAIN[:4], valset=TRAIN[4:])
    assert program.fingerprint() == before and compiled is not program
    assert compiled.fingerprint() != before
    assert {name: getattr(optimizer, name) for name in stored} == stored
    report = optimizer.report()
    assert report["stopped_by_budget"] is False and report["program_runs"] == optimizer.program_runs_ >= 0
    json.dumps(report)  # a run summary carries it as JSON
    with pytest.raises(ValueError, match="training set is empty"):
        optimizer.compile(program, [])
    with pytest.raises(ValueError, match="no inputs marked"):
        optimizer.compile(program, [Example(country="France", capital="Paris")])


@pytest.mark.parametrize("optimizer", _optimizers(), ids=lambda optimizer: type(optimizer).__name__)
def test_every_optimizer_estimates_its_work_without_an_lm_call(optimizer):
    with ScriptedLM(responder=_right_only_with_demos) as fake, context(lm=fake.lm()):
        estimate = optimizer.estimate(Predict("country -> capital"), TRAIN[:4], valset=TRAIN[4:])
    assert fake.history == [] and isinstance(estimate, CallEstimate)
    assert estimate.lm_calls_per_run == 1 and estimate.lm_calls >= estimate.program_runs >= 0
    assert (estimate.lm_calls == 0) == isinstance(optimizer, LabeledFewShot)  # only labeled demos are free
