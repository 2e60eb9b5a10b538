import contextlib
import enum
from typing import Literal

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines import InputField, OutputField, Signature, SignatureError


class Sentiment(enum.Enum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


class Person(pydantic.BaseModel):
    name: str
    age: int


def test_string_form_with_and_without_types():
    signature = Signature("context: list[str], question -> answer")
    assert list(signature.input_fields) == ["context", "question"]
    assert signature.input_fields["context"].annotation == list[str]
    assert signature.output_fields["answer"].annotation is str
    assert signature.spec == "context: list[str], question: str -> answer: str"
    assert "`context`, `question`" in signature.instructions


@pytest.mark.parametrize(("spec", "annotation"), [
    ("q -> a: int", int),
    ("q -> a: float", float),
    ("q -> a: bool", bool),
    ("q -> a: list[int]", list[int]),
    ("q -> a: Literal['x', 'y', 3]", Literal["x", "y", 3]),
])
def test_every_builtin_type_in_string_form(spec, annotation):
    assert Signature(spec).output_fields["a"].annotation == annotation


def test_custom_types_are_passed_by_name():
    signature = Signature("text -> sentiment: Sentiment, person: Person", types={"Sentiment": Sentiment,
                                                                                "Person": Person})
    assert signature.output_fields["sentiment"].annotation is Sentiment
    assert signature.output_fields["person"].type_name == "Person"


def test_class_form_takes_the_docstring_as_instructions():
    class Classify(Signature):
        """Classify the question.

        Be brief."""

        question: str = InputField(desc="a question")
        label: Literal["human", "location"] = OutputField(desc="the answer type")

    assert isinstance(Classify, Signature)
    assert Classify.name == "Classify"
    assert Classify.instructions == "Classify the question.\n\nBe brief."
    assert Classify.input_fields["question"].desc == "a question"
    assert Classify.output_fields["label"].annotation == Literal["human", "location"]


def test_class_form_field_without_marker_is_an_error():
    with pytest.raises(SignatureError, match="'label' needs InputField"):
        class Broken(Signature):
            question: str = InputField()
            label: str


def test_class_form_with_an_unsupported_type_is_an_error():
    with pytest.raises(SignatureError, match="field 'data' has type set"):
        class Broken(Signature):
            data: set = InputField()
            answer: str = OutputField()


@pytest.mark.parametrize(("spec", "message"), [
    ("-> a", "no input fields"),
    ("a -> ", "no output fields"),
    ("a, a -> b", "'a' appears twice"),
    ("a -> a", "'a' appears twice"),
    ("a -> b: Foo", "unknown type 'Foo'"),
    ("a -> b: set[int]", "unknown type 'set'"),
    ("a -> b: dict[int, str]", "type dict[int, str], which sigflow cannot"),
    ("a -> b -> c", "one '->'"),
    ("a b -> c", "'a b' is not a valid field name"),
    ("class -> c", "'class' is not a valid field name"),
    ("a -> b: list[", "cannot read the type"),
    ("a -> b: Literal[x]", "Literal takes constants"),
    ("a, -> b", "'' is not a valid field name"),
])
def test_malformed_strings_name_the_problem(spec, message):
    with pytest.raises(SignatureError, match=message.replace("[", r"\[")):
        Signature(spec)


@given(st.text(alphabet=st.sampled_from("ab_:,->[]' \n1LiteralstrintQ()"), max_size=40))
def test_any_string_is_a_signature_or_a_signature_error(spec):
    with contextlib.suppress(SignatureError):
        Signature(spec)


def test_signatures_are_immutable_and_edits_return_new_ones():
    original = Signature("question -> answer")
    edited = original.with_instructions("Answer briefly.")
    with_reasoning = original.prepend("reasoning", OutputField(desc="think"))
    with_context = original.prepend("context", InputField(), list[str])
    with_note = original.append("note", OutputField())
    assert original.instructions != "Answer briefly." and edited.instructions == "Answer briefly."
    assert original.spec == "question: str -> answer: str"
    assert with_reasoning.spec == "question: str -> reasoning: str, answer: str"
    assert with_context.spec == "context: list[str], question: str -> answer: str"
    assert with_note.spec == "question: str -> answer: str, note: str"
    assert with_note.delete("note") == original
    assert with_reasoning.append("note", OutputField()).delete("reasoning", "note") == original
    assert original.with_field_descriptions({"answer": "short"}).output_fields["answer"].desc == "short"
    with pytest.raises(SignatureError, match="no field 'missing'"):
        original.delete("missing")
    with pytest.raises(SignatureError, match="appears twice"):
        original.append("answer", OutputField())
