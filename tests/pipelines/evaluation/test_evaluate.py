import json

import pytest

from pipelines import (
    BudgetExceeded,
    Example,
    LMError,
    Predict,
    ScriptedLM,
    TooManyErrors,
    accuracy,
    evaluate,
    exact_match,
    macro_f1,
    token_f1,
    track_usage,
)
from pipelines.evaluation import EvaluationFileError, EvaluationStore, normalize_answer
from pipelines.lm import Budget

LABELS = ["human", "location", "numeric"]


def _examples(count: int) -> list[Example]:
    return [Example(id=f"q{index}", question=f"question {index}", label=LABELS[index % 3]).with_inputs("question")
            for index in range(count)]


def _answer_by_number(messages) -> str:
    """Right for even-numbered questions, 'human' otherwise."""
    index = int(messages[-1]["content"].rsplit(" ", 1)[1])
    return f"label: {LABELS[index % 3] if index % 2 == 0 else 'human'}"


def _classifier(fake: ScriptedLM) -> Predict:
    return Predict("question -> label: Literal['human', 'location', 'numeric']", lm=fake.lm())


def test_parallel_evaluation_keeps_every_prediction_in_order():
    with ScriptedLM(responder=_answer_by_number) as fake:
        result = evaluate(_classifier(fake), _examples(20), accuracy(), num_threads=4)
    expected = [float(i % 2 == 0 or i % 3 == 0) for i in range(20)]
    assert [r.score for r in result.results] == expected
    assert result.score == pytest.approx(sum(expected) / 20)
    assert [r.example_id for r in result.results] == [f"q{i}" for i in range(20)]
    assert result.usage.calls == 20 and result.errors == 0 and result.n == 20
    assert all(r.usage.calls == 1 for r in result.results)
    assert len(result.program_fingerprint) == 16


def test_rescoring_with_another_metric_makes_no_lm_call():
    with ScriptedLM(responder=_answer_by_number) as fake:
        result = evaluate(_classifier(fake), _examples(20), accuracy(), num_threads=2)
        calls_made = len(fake.history)
        with track_usage() as usage:
            rescored = result.rescore(macro_f1())
    assert len(fake.history) == calls_made == 20
    assert usage.calls == 0 and usage.cache_hits == 0
    assert rescored.metric == "macro_f1:label" and rescored.score != result.score
    assert [r.outputs for r in rescored.results] == [r.outputs for r in result.results]


def test_failures_within_the_error_budget_score_zero_and_are_counted():
    answers = ["label: human", LMError("provider down"), "not a label", "still not"]
    with ScriptedLM(answers) as fake:
        result = evaluate(_classifier(fake), _examples(3), accuracy(), max_errors=5)
    assert result.errors == 2
    assert [r.error is not None for r in result.results] == [False, True, True]
    assert "provider down" in result.results[1].error and "ParseError" in result.results[2].error
    assert result.usage.parse_retries == 1 and result.usage.parse_failures == 1
    assert result.score == pytest.approx(1 / 3)


def test_past_the_error_budget_the_evaluation_stops():
    with ScriptedLM(responder=lambda messages: (_ for _ in ()).throw(LMError("down"))) as fake, \
            pytest.raises(TooManyErrors, match="3 examples failed, more than max_errors=2"):
        evaluate(_classifier(fake), _examples(10), accuracy(), max_errors=2)
    assert len(fake.history) == 3


def test_a_spent_budget_stops_the_evaluation():
    with ScriptedLM(responder=_answer_by_number) as fake, Budget(max_calls=5), pytest.raises(BudgetExceeded):
        evaluate(_classifier(fake), _examples(10), accuracy())


def test_a_user_function_is_a_metric():
    def starts_with_h(example, prediction) -> bool:
        return prediction["label"].startswith("h")

    with ScriptedLM(responder=_answer_by_number) as fake:
        result = evaluate(_classifier(fake), _examples(6), starts_with_h)
    assert result.metric == "starts_with_h" and result.score == pytest.approx(4 / 6)


def test_store_round_trip_and_rescore_from_disk(tmp_path):
    with ScriptedLM(responder=_answer_by_number) as fake:
        result = evaluate(_classifier(fake), _examples(9), accuracy())
    store = EvaluationStore(tmp_path / "evaluations")
    evaluation_id = store.save(result)
    assert store.ids() == [evaluation_id]
    loaded = store.load(evaluation_id)
    assert loaded.score == result.score and loaded.program_fingerprint == result.program_fingerprint
    assert loaded.usage == result.usage
    with track_usage() as usage:
        assert loaded.rescore(macro_f1()).score == pytest.approx(result.rescore(macro_f1()).score)
    assert usage.calls == 0


def test_store_refuses_damaged_files_and_unknown_ids(tmp_path):
    store = EvaluationStore(tmp_path)
    (tmp_path / "abc123.json").write_text(json.dumps({"format": "sigflow.evaluation", "version": 1}))
    with pytest.raises(EvaluationFileError, match="damaged"):
        store.load("abc123")
    with pytest.raises(KeyError, match="no evaluation"):
        store.load("missing1")
    with pytest.raises(KeyError, match="not an evaluation id"):
        store.load("../../etc/passwd")


def test_hotpotqa_normalization_exact_match_and_f1():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    example = Example(answer="the Eiffel Tower")
    assert exact_match().score(example, {"answer": "Eiffel tower."}) == 1.0
    assert token_f1().score(example, {"answer": "tower in Paris"}) == pytest.approx(2 * 0.5 * 1 / 3 / (0.5 + 1 / 3))
    assert token_f1().score(example, {"answer": "no overlap"}) == 0.0


def test_macro_f1_averages_the_classes():
    examples = [Example(label=label) for label in ["a", "a", "b", "c"]]
    outputs = [{"label": "a"}, {"label": "b"}, {"label": "b"}, None]
    scores = [macro_f1().score(e, o) if o else 0.0 for e, o in zip(examples, outputs, strict=True)]
    # a: precision 1, recall 1/2 -> 2/3; b: precision 1/2, recall 1 -> 2/3; c: 0
    assert macro_f1().aggregate(scores, examples, outputs) == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)


def test_unreadable_replies_are_wrong_answers_not_errors_against_the_budget():
    with ScriptedLM(responder=lambda messages: "I cannot decide.") as fake:
        result = evaluate(_classifier(fake), _examples(5), accuracy(), max_errors=1)
    assert result.score == 0.0 and result.errors == 5
    assert result.usage.parse_failures == 5 and result.usage.parse_retries == 5
