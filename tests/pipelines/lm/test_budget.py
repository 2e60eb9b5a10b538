import threading

import pytest

from pipelines import Budget, BudgetExceeded, ScriptedLM, parallel_map, track_usage
from pipelines.lm import LMRateLimited


def test_call_that_would_cross_the_call_cap_is_refused_before_it_is_made():
    with ScriptedLM(responder=lambda messages: "ok") as fake, Budget(max_calls=2) as budget:
        lm = fake.lm(cache=False)
        lm("one")
        lm("two")
        with pytest.raises(BudgetExceeded, match="2 of 2 calls"):
            lm("three")
    assert len(fake.history) == 2
    assert budget.calls_used == 2 and budget.remaining_calls == 0


def test_token_cap_refuses_a_call_whose_prompt_and_max_tokens_could_cross_it():
    with ScriptedLM(responder=lambda messages: "a b c") as fake, Budget(max_tokens=100) as budget:
        lm = fake.lm(cache=False, max_tokens=40)
        lm("short prompt")
        assert budget.tokens_used == 2 + 3  # settled at the real count, not the reservation
        with pytest.raises(BudgetExceeded, match="token budget"):
            lm("x" * 300)
    assert len(fake.history) == 1


def test_cache_hits_cost_no_budget():
    with ScriptedLM(responder=lambda messages: "ok") as fake, Budget(max_calls=1) as budget:
        lm = fake.lm()
        lm("same")
        lm("same")
        lm("same")
    assert budget.calls_used == 1


def test_every_retry_is_charged():
    with ScriptedLM([LMRateLimited("slow down"), "ok"]) as fake, Budget(max_calls=5) as budget:
        fake.lm(cache=False)("hi")
    assert budget.calls_used == 2


def test_nested_budgets_are_all_charged_and_a_refusal_releases_the_others():
    with ScriptedLM(responder=lambda messages: "ok") as fake, Budget(max_calls=10) as outer:
        lm = fake.lm(cache=False)
        with Budget(max_calls=1) as inner:
            lm("one")
            with pytest.raises(BudgetExceeded):
                lm("two")
        lm("three")
    assert inner.calls_used == 1
    assert outer.calls_used == 2


def test_concurrent_calls_cannot_overshoot_together():
    with ScriptedLM(responder=lambda messages: "ok") as fake, Budget(max_calls=10) as budget:
        lm = fake.lm(cache=False)

        def call(index: int) -> bool:
            try:
                lm(f"question {index}")
                return True
            except BudgetExceeded:
                return False

        answered = parallel_map(call, range(50), num_threads=8)
    assert sum(answered) == 10
    assert len(fake.history) == 10
    assert budget.calls_used == 10


def test_budget_outside_its_scope_is_not_charged():
    budget = Budget(max_calls=1)
    with ScriptedLM(responder=lambda messages: "ok") as fake:
        with budget:
            fake.lm(cache=False)("inside")
        fake.lm(cache=False)("outside")
    assert budget.calls_used == 1


def test_a_thread_started_without_the_context_does_not_see_the_budget():
    """Only work started through parallel_map (a copy of the context) is charged: plain threads are not."""
    budget = Budget(max_calls=0)
    with ScriptedLM(responder=lambda messages: "ok") as fake, budget:
        thread = threading.Thread(target=lambda: fake.lm(cache=False)("plain thread"))
        thread.start()
        thread.join()
    assert len(fake.history) == 1


def test_negative_caps_are_rejected():
    with pytest.raises(ValueError, match="max_calls"):
        Budget(max_calls=-1)


def test_budget_and_usage_agree_on_calls():
    with ScriptedLM(responder=lambda messages: "ok") as fake, Budget(max_calls=5) as budget, \
            track_usage() as usage:
        for index in range(3):
            fake.lm(cache=False)(f"q{index}")
    assert usage.calls == budget.calls_used == 3
