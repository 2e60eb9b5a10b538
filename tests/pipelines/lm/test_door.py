"""The door's retry policy, usage accounting, cache behaviour and secrecy, with a scripted provider."""

import itertools
import sqlite3
import time

import pytest

from pipelines import ScriptedLM, parallel_map, track_usage
from pipelines.lm import (
    Completion,
    LMAuthenticationError,
    LMError,
    LMRateLimited,
    LMServerError,
    LMTimeout,
)


def test_retryable_errors_are_retried_until_an_answer():
    with ScriptedLM([LMRateLimited("429"), LMServerError("503"), "ok"]) as fake, track_usage() as usage:
        completion = fake.lm(cache=False).complete([{"role": "user", "content": "hi"}])
    assert completion.text == "ok"
    assert completion.attempts == 3
    assert usage.calls == 3 and usage.retries == 2 and usage.failures == 0


def test_a_non_retryable_error_is_raised_at_once_with_the_provider_message():
    with ScriptedLM([LMAuthenticationError("invalid api key", model="x"), "never"]) as fake, \
            track_usage() as usage, pytest.raises(LMAuthenticationError, match="invalid api key"):
        fake.lm(cache=False)("hi")
    assert usage.calls == 1 and usage.retries == 0 and usage.failures == 1


def test_retries_stop_after_num_retries_and_raise_the_last_error():
    errors = [LMTimeout("t1"), LMTimeout("t2"), LMTimeout("t3")]
    with ScriptedLM(errors) as fake, track_usage() as usage, pytest.raises(LMTimeout, match="t3"):
        fake.lm(cache=False, num_retries=2)("hi")
    assert usage.calls == 3 and usage.failures == 1


def test_backoff_doubles_between_attempts_with_bounded_jitter():
    backoff, failures = 0.1, iter([LMRateLimited("a"), LMRateLimited("b"), LMRateLimited("c")])
    called_at: list[float] = []

    def provider(messages) -> str:
        called_at.append(time.perf_counter())
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return "ok"

    with ScriptedLM(responder=provider) as fake:
        assert fake.lm(cache=False, backoff_seconds=backoff)("hi") == ["ok"]
    waits = [later - earlier for earlier, later in itertools.pairwise(called_at)]
    assert len(waits) == 3
    for attempt, wait in enumerate(waits):  # backoff * 2**attempt, plus jitter of up to `backoff`
        assert backoff * 2 ** attempt <= wait < backoff * 2 ** attempt + backoff + 0.05, (attempt, waits)
    assert waits[0] < waits[1] < waits[2]


def test_cache_hit_makes_no_call_and_is_counted():
    with ScriptedLM(["first"]) as fake, track_usage() as usage:
        lm = fake.lm()
        first = lm.complete([{"role": "user", "content": "q"}])
        second = lm.complete([{"role": "user", "content": "q"}])
    assert (first.text, second.text) == ("first", "first")
    assert not first.cached and second.cached
    assert second.prompt_tokens == first.prompt_tokens  # the generation's tokens travel with the entry
    assert len(fake.history) == 1
    assert usage.calls == 1 and usage.cache_hits == 1
    assert usage.prompt_tokens == first.prompt_tokens  # only the uncached call is counted


def test_cache_false_bypasses_the_cache():
    with ScriptedLM(["one", "two"]) as fake:
        lm = fake.lm()
        assert lm("q") == ["one"]
        assert lm("q", cache=False) == ["two"]


def test_rollout_id_draws_its_own_sample_and_repeats_it_from_the_cache():
    with ScriptedLM(["shared", "rollout 1", "rollout 2"]) as fake:
        lm = fake.lm()
        assert lm("q") == ["shared"]
        assert lm("q", rollout_id="1") == ["rollout 1"]
        assert lm("q", rollout_id="2") == ["rollout 2"]
        assert lm("q", rollout_id="1") == ["rollout 1"]
        assert len(fake.history) == 3
    assert all("rollout_id" not in call.params for call in fake.history)


def test_failures_are_not_cached():
    with ScriptedLM([LMAuthenticationError("no"), "later"]) as fake:
        lm = fake.lm()
        with pytest.raises(LMAuthenticationError):
            lm("q")
        assert lm("q") == ["later"]


def test_usage_scopes_nest_and_follow_parallel_map():
    with ScriptedLM(responder=lambda messages: "ok") as fake, track_usage() as outer:
        lm = fake.lm(cache=False)
        lm("before")
        with track_usage() as inner:
            parallel_map(lambda index: lm(f"q{index}"), range(20), num_threads=4)
    assert inner.calls == 20
    assert outer.calls == 21
    assert outer.by_model[fake.model].calls == 21


def test_usage_outside_any_scope_is_not_recorded():
    with ScriptedLM(responder=lambda messages: "ok") as fake:
        fake.lm(cache=False)("unscoped")
        with track_usage() as usage:
            pass
    assert usage.calls == 0


def test_secrets_never_reach_the_cache_file_or_the_saved_settings(isolated_state):
    with ScriptedLM(["answer"]) as fake:
        lm = fake.lm(api_key="sk-test-SECRET-123", api_base="http://127.0.0.1:9")
        lm("q")
        assert fake.history[0].params["api_key"] == "sk-test-SECRET-123"  # the provider still gets it
    assert "api_key" not in lm.settings() and "SECRET" not in repr(lm)
    cache_file = isolated_state / "cache" / "lm-cache.sqlite3"
    with sqlite3.connect(cache_file) as db:
        stored = " ".join(row[0] for row in db.execute("SELECT value FROM completions"))
    assert "answer" in stored
    assert "SECRET" not in stored and b"SECRET" not in cache_file.read_bytes()


def test_an_empty_script_is_a_clear_error():
    with ScriptedLM() as fake, pytest.raises(LMError, match="no answer queued"):
        fake.lm()("q")


def test_lm_call_rejects_both_prompt_and_messages():
    with ScriptedLM(["x"]) as fake, pytest.raises(ValueError, match="either a prompt or messages"):
        fake.lm()("p", messages=[{"role": "user", "content": "m"}])


def test_copy_changes_only_what_is_named():
    with ScriptedLM() as fake:
        lm = fake.lm(max_tokens=7, stop=["\n"])
        copied = lm.copy(temperature=0.5)
    assert copied.settings() == {**lm.settings(), "temperature": 0.5}


def test_native_tool_calls_are_cached_with_their_completion():
    call = {"name": "search", "arguments": '{"query": "cats"}'}
    with ScriptedLM([Completion(text="", model="scripted", tool_calls=(call,))], native_tools=True) as fake:
        first = fake.lm().complete([{"role": "user", "content": "q"}], tools=[])
        again = fake.lm().complete([{"role": "user", "content": "q"}], tools=[])
    assert first.tool_calls == again.tool_calls == (call,) and again.cached
