import contextlib
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines import Example, ParseError, Predict, ScriptedLM, Signature, track_usage
from pipelines.adapter import format_messages, parse

QA = Signature("context: list[str], question -> reasoning, answer")
LABEL = Signature("question -> label: Literal['human', 'location', 'numeric']")


def test_demos_are_user_and_assistant_turns_before_the_question():
    demo = Example(context=["Paris is in France."], question="Where is Paris?", reasoning="It says so.",
                   answer="France")
    messages = format_messages(QA, [demo], {"context": ["Rome is in Italy."], "question": "Where is Rome?"})
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "context:\n[1] Paris is in France.\nquestion: Where is Paris?"
    assert messages[2]["content"] == "reasoning: It says so.\nanswer: France"
    assert messages[3]["content"] == "context:\n[1] Rome is in Italy.\nquestion: Where is Rome?"
    assert "reasoning: <text>\nanswer: <text>" in messages[0]["content"]


def test_the_system_message_names_the_choices_and_field_descriptions():
    signature = Signature("question -> label: Literal['human', 'location']").with_field_descriptions(
        {"label": "who or where"})
    system = format_messages(signature, [], {"question": "q"})[0]["content"]
    assert "label: <one of: human, location>" in system
    assert "- label: who or where" in system


@pytest.mark.parametrize("reply", [
    "reasoning: Because.\nanswer: Paris",
    "Reasoning: Because.\nAnswer: Paris",
    "**reasoning:** Because.\n**answer:** Paris",
    "```\nreasoning: Because.\nanswer: Paris\n```",
    "Because.\nanswer: Paris",
    "## Reasoning: Because.\n\n## Answer: Paris",
])
def test_lenient_parsing_of_decorated_replies(reply):
    assert parse(QA, reply) == {"reasoning": "Because.", "answer": "Paris"}


def test_multi_line_values_run_until_the_next_field():
    parsed = parse(QA, "reasoning: First line.\nSecond line.\nanswer: Paris")
    assert parsed["reasoning"] == "First line.\nSecond line."


def test_a_single_output_field_may_come_without_its_prefix():
    assert parse(LABEL, "Location.") == {"label": "location"}


def test_missing_fields_and_bad_values_are_parse_errors_with_the_raw_text():
    with pytest.raises(ParseError, match="missing 'answer'") as raised:
        parse(QA, "reasoning: nothing else")
    assert raised.value.raw == "reasoning: nothing else"
    with pytest.raises(ParseError, match="field 'label': expected one of human, location, numeric"):
        parse(LABEL, "label: animal")


@given(st.text(max_size=300))
def test_arbitrary_replies_parse_or_raise_parse_error(reply):
    for signature in (QA, LABEL, Signature("q -> n: int, ok: bool, items: list[str]")):
        with contextlib.suppress(ParseError):
            parse(signature, reply)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60)
       .filter(lambda text: text.strip() == text and ":" not in text and "`" not in text
               and not text.startswith(("**", "__"))))
def test_rendered_outputs_parse_back(answer):
    """Any answer survives, except one that starts with markdown bold (read as decoration)."""
    assert parse(QA, f"reasoning: ok\nanswer: {answer}")["answer"] == answer


def test_one_corrective_retry_says_what_was_wrong_and_is_counted():
    with ScriptedLM(["I think it is an animal.", "label: human"]) as fake, track_usage() as usage:
        prediction = Predict(LABEL, lm=fake.lm())(question="Who wrote Hamlet?")
    assert prediction.label == "human"
    correction = fake.history[1].messages
    assert correction[-2] == {"role": "assistant", "content": "I think it is an animal."}
    assert "expected one of human, location, numeric" in correction[-1]["content"]
    assert usage.parse_retries == 1 and usage.parse_failures == 0 and usage.calls == 2
    assert prediction.usage.parse_retries == 1 and prediction.usage.calls == 2


def test_a_reply_cut_off_before_its_answer_keeps_its_reasoning_and_is_asked_only_for_the_answer():
    with ScriptedLM(["reasoning: The passage says Paris is the capital, and", "answer: Paris"]) as fake, \
            track_usage() as usage:
        prediction = Predict(QA, lm=fake.lm())(context=["Paris is the capital of France."], question="Capital?")
    assert prediction.reasoning == "The passage says Paris is the capital, and"
    assert prediction.answer == "Paris"
    correction = fake.history[1].messages[-1]["content"]
    assert "missing 'answer'" in correction
    assert correction.endswith("answer: <text>") and "reasoning:" not in correction
    assert usage.parse_retries == 1 and usage.calls == 2


def test_an_unreadable_later_field_is_asked_again_alone():
    signature = Signature("question -> reasoning, label: Literal['human', 'location']")
    with ScriptedLM(["reasoning: A writer.\nlabel: animal", "label: human"]) as fake:
        prediction = Predict(signature, lm=fake.lm())(question="Who wrote Hamlet?")
    assert (prediction.reasoning, prediction.label) == ("A writer.", "human")
    assert "reasoning:" not in fake.history[1].messages[-1]["content"]


def test_a_reply_with_nothing_readable_is_asked_for_every_field_again():
    with ScriptedLM(["I cannot say.\nMaybe.", "reasoning: It says so.\nanswer: Paris"]) as fake:
        prediction = Predict(Signature("question -> reasoning, answer, confidence"), lm=fake.lm())
        with pytest.raises(ParseError, match="missing 'confidence'"):
            prediction(question="Capital?")
    assert "reasoning: <text>\nanswer: <text>\nconfidence: <text>" in fake.history[1].messages[-1]["content"]


def test_a_second_bad_reply_is_a_parse_error_carrying_the_raw_text():
    with ScriptedLM(["animal", "still an animal"]) as fake, track_usage() as usage, \
            pytest.raises(ParseError) as raised:
        Predict(LABEL, lm=fake.lm())(question="Who wrote Hamlet?")
    assert raised.value.raw == "still an animal"
    assert usage.parse_retries == 1 and usage.parse_failures == 1


def test_literal_output_type_survives_the_round_trip():
    signature = Signature("q -> label: Literal['a', 'b']")
    assert parse(signature, "label: B") == {"label": "b"}
    assert Literal["a", "b"] == signature.output_fields["label"].annotation
