"""An evaluation and an optimization through a real OpenAI-compatible HTTP provider that fails at random:
both finish, every request is counted, retries wait, nothing is lost, and the key stays out of every file."""

import itertools
import logging
from collections import defaultdict

import pytest

from pipelines import LM, EvaluationStore, Predict, accuracy, context, evaluate, settings, track_usage
from pipelines.optimizers import MIPRO
from pipelines.optimizers.presets import SearchSettings
from tests.pipelines.optimizers.test_mipro import EXAMPLES, TRAIN, VAL, CapitalModel
from tests.reliability.flaky_provider import FlakyProvider, serving

FAKE_KEY = "sk-flaky-0123456789abcdefFAKE"
FAULT_RATES = {"rate_limit": 0.12, "server_error": 0.08, "slow": 0.04, "not_json": 0.04, "empty": 0.04,
               "unreadable": 0.06}
RETRIED = {"rate_limit", "server_error", "slow", "not_json", "empty"}
BACKOFF_SECONDS = 0.05
CLIENT_TIMEOUT_SECONDS = 0.5


def _flaky_lm(provider: FlakyProvider) -> LM:
    return LM("openai/flaky-model", api_base=provider.url, api_key=FAKE_KEY, timeout=CLIENT_TIMEOUT_SECONDS,
              backoff_seconds=BACKOFF_SECONDS, num_retries=3)


def _assert_retries_waited(provider: FlakyProvider) -> None:
    """A request that failed in a retryable way is followed, for the same prompt, only after the backoff."""
    by_prompt = defaultdict(list)
    for entry in provider.log:
        by_prompt[entry.prompt].append(entry)
    gaps = [later.at - earlier.at for entries in by_prompt.values()
            for earlier, later in itertools.pairwise(entries) if earlier.outcome in RETRIED]
    assert gaps, "no retry happened: the fault rates are too low to test anything"
    assert min(gaps) >= BACKOFF_SECONDS * 0.9


def _assert_key_stays_out(caplog: pytest.LogCaptureFixture, provider: FlakyProvider) -> None:
    assert all(entry.authorization == f"Bearer {FAKE_KEY}" for entry in provider.log)  # the key was used
    for path in settings.cache_dir().rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), f"the API key was written to {path}"
    assert FAKE_KEY not in caplog.text


def test_an_evaluation_through_a_flaky_provider_finishes_and_accounts_for_every_request(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    provider = FlakyProvider(CapitalModel(), FAULT_RATES, slow_seconds=2 * CLIENT_TIMEOUT_SECONDS, seed=3)
    with serving(provider), context(lm=_flaky_lm(provider)):
        result = evaluate(Predict("country -> capital"), EXAMPLES, accuracy("capital"), num_threads=4,
                          max_errors=None, description=None)
    usage = result.usage
    assert [item.example.example_id for item in result.results] == [example.example_id for example in EXAMPLES]
    assert set(provider.outcomes()) == {"ok", *FAULT_RATES}, provider.outcomes()
    assert usage.calls == len(provider.log), "a request was made that the usage does not count (or the reverse)"
    assert usage.retries > 0
    failed = [item for item in result.results if item.error and not item.error.startswith("ParseError")]
    assert usage.failures == len(failed)
    assert result.score == sum(item.score for item in result.results) / len(EXAMPLES)
    _assert_retries_waited(provider)

    store = EvaluationStore(tmp_path / "evaluations")
    reloaded = store.load(store.save(result))
    assert [(item.example.example_id, item.outputs, item.error) for item in reloaded.results] == [
        (item.example.example_id, item.outputs, item.error) for item in result.results]
    _assert_key_stays_out(caplog, provider)


def test_an_optimization_through_a_flaky_provider_finishes_every_trial(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    provider = FlakyProvider(CapitalModel(), FAULT_RATES, slow_seconds=2 * CLIENT_TIMEOUT_SECONDS, seed=4)
    search = SearchSettings(num_candidates=3, num_trials=5, minibatch_size=4, val_size=12, num_full_evals=1,
                            max_bootstrapped_demos=2, max_labeled_demos=1)
    optimizer = MIPRO(accuracy("capital"), settings=search, num_threads=4, study=tmp_path / "study.db")
    with serving(provider), context(lm=_flaky_lm(provider)), track_usage() as usage:
        optimizer.compile(Predict("country -> capital"), TRAIN, VAL)
    assert usage.total.calls == len(provider.log) and usage.total.retries > 0
    kinds = [trial.kind for trial in optimizer.trials_]
    assert kinds[0] == "original" and sum(kind in ("minibatch", "repeat") for kind in kinds) == 5
    assert all((trial.kind == "repeat") == (trial.examples == 0) for trial in optimizer.trials_)
    study_trials = [trial for trial in optimizer.study_.trials if trial.state.name == "COMPLETE"]
    assert len(study_trials) == len(optimizer.trials_)
    assert optimizer.best_score_ >= optimizer.baseline_score_
    _assert_retries_waited(provider)
    _assert_key_stays_out(caplog, provider)
