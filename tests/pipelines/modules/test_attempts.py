import pytest

from pipelines import Budget, BudgetExceeded, ParseError, Predict, ScriptedLM, context
from pipelines.modules.attempts import BestOfN, Refine


def rewarded(wanted: str):
    seen = []

    def reward(inputs, prediction):
        answer = str(prediction.answer)
        seen.append((inputs, answer))
        return 1.0 if answer == wanted else len(answer) / 10

    return reward, seen


def attempts_of(module, answers, **inputs):
    with ScriptedLM(answers) as fake, context(lm=fake.lm()):
        return module(**inputs), fake.history


def test_best_of_n_stops_at_the_first_attempt_that_reaches_the_threshold():
    reward, seen = rewarded("Rome")
    prediction, history = attempts_of(BestOfN(Predict("question -> answer"), 3, reward, 1.0),
                                      ["answer: Paris", "answer: Rome", "answer: Oslo"], question="q")
    assert prediction.answer == "Rome" and len(history) == 2 and prediction.usage.calls == 2
    assert seen == [({"question": "q"}, "Paris"), ({"question": "q"}, "Rome")]


def test_without_a_success_the_best_attempt_is_kept():
    reward, _ = rewarded("Rome")
    prediction, history = attempts_of(BestOfN(Predict("question -> answer"), 3, reward, 1.0),
                                      ["answer: Oslo", "answer: Helsinki", "answer: Bern"], question="q")
    assert prediction.answer == "Helsinki" and len(history) == 3


def test_later_attempts_are_fresh_samples_at_rising_temperature():
    reward, _ = rewarded("never")
    module = BestOfN(Predict("question -> answer"), 3, reward, 1.0)
    _, history = attempts_of(module, ["answer: a", "answer: b", "answer: c"], question="q")
    assert [call.params["temperature"] for call in history] == [0.0, 0.5, 1.0]


def test_distinct_rollout_ids_keep_the_cache_from_answering_every_attempt_alike():
    reward, _ = rewarded("never")
    module = BestOfN(Predict("question -> answer"), 3, reward, 1.0, max_temperature=0.0)
    with ScriptedLM(["answer: a", "answer: bb", "answer: c"]) as fake, context(lm=fake.lm()):
        first = module(question="q")
        again = module(question="q")  # every attempt is now a cache entry of its own
    assert len(fake.history) == 3 and first.answer == again.answer == "bb"
    assert (first.usage.cache_hits, again.usage.cache_hits) == (0, 3)


def test_failed_attempts_are_skipped_until_fail_count():
    reward, _ = rewarded("7")
    unreadable = ["answer: many", "answer: lots"]  # a reply and its corrective retry, neither a number
    prediction, _ = attempts_of(BestOfN(Predict("question -> answer: int"), 3, reward, 1.0),
                                [*unreadable, "answer: 7"], question="q")
    assert prediction.answer == 7
    with pytest.raises(ParseError):
        attempts_of(BestOfN(Predict("question -> answer: int"), 3, reward, 1.0, fail_count=1),
                    [*unreadable, "answer: 7"], question="q")


def test_a_spent_budget_ends_the_attempts():
    reward, _ = rewarded("Rome")
    with pytest.raises(BudgetExceeded), Budget(max_calls=2):
        attempts_of(BestOfN(Predict("question -> answer"), 3, reward, 1.0), ["answer: a", "answer: b"],
                    question="q")


def test_refine_gives_the_next_attempt_advice_from_the_last():
    reward, _ = rewarded("Rome")
    module = Refine(Predict("question -> answer"), 3, reward, 1.0)
    prediction, history = attempts_of(module, ["answer: Paris", "advice: name the city in Italy", "answer: Rome"],
                                      question="capital of Italy?")
    assert prediction.answer == "Rome" and prediction.usage.calls == 3
    advice_request = history[1].messages[-1]["content"]
    assert '"answer": "Paris"' in advice_request and "reward: 0.5" in advice_request
    assert history[2].messages[-1]["content"] == "question: capital of Italy?\nhint: name the city in Italy"
    assert "hint: advice from an earlier attempt" in history[2].messages[0]["content"]


def test_refine_asks_no_advice_after_the_last_attempt():
    reward, _ = rewarded("Rome")
    _, history = attempts_of(Refine(Predict("question -> answer"), 2, reward, 1.0),
                             ["answer: Paris", "advice: think", "answer: Oslo"], question="q")
    assert len(history) == 3


def test_n_must_be_positive():
    with pytest.raises(ValueError, match="N must be at least 1"):
        BestOfN(Predict("a -> b"), 0, lambda inputs, prediction: 0.0, 1.0)


def test_advice_that_cannot_be_had_leaves_the_next_attempt_without_it():
    reward, _ = rewarded("Rome")
    module = Refine(Predict("question -> answer"), 2, reward, 1.0)
    prediction, history = attempts_of(module, ["answer: Paris", ValueError("no advice"), "answer: Rome"],
                                      question="q")
    assert prediction.answer == "Rome" and "hint" not in history[-1].messages[-1]["content"]
