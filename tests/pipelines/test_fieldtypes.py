import contextlib
import enum
from typing import Any, Literal

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.fieldtypes import CoercionError, coerce, from_jsonable, render, to_jsonable

Label = Literal["abbreviation", "description", "entity", "human", "location", "numeric"]


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Person(pydantic.BaseModel):
    name: str
    age: int


@pytest.mark.parametrize(("text", "expected"), [
    ("location", "location"),
    ("Location", "location"),
    ("**LOCATION**.", "location"),
    ('"human"', "human"),
    ("loc", "location"),
    ("NUM", "numeric"),
    ("human: it asks for a person", "human"),
    ("The answer type is location.", "location"),
])
def test_literal_matches_case_insensitively_by_prefix_or_mention(text, expected):
    assert coerce(Label, text) == expected


@pytest.mark.parametrize("text", ["", "city", "human or location", "n/a"])
def test_literal_refuses_unknown_or_ambiguous_answers(text):
    with pytest.raises(CoercionError, match="expected one of"):
        coerce(Label, text)


def test_enum_matches_value_or_name():
    assert coerce(Color, "Red") is Color.RED
    assert coerce(Color, "GREEN") is Color.GREEN
    assert coerce(Color, "gr") is Color.GREEN


@pytest.mark.parametrize(("annotation", "text", "expected"), [
    (int, "42", 42),
    (int, "about 1,200 people", 1200),
    (float, "3.5 km", 3.5),
    (float, "-.5", -0.5),
    (bool, "Yes, it is", True),
    (bool, "false", False),
    (str, "  kept as written \n", "kept as written"),
    (list[str], '["a", "b"]', ["a", "b"]),
    (list[str], "- a\n- b\n", ["a", "b"]),
    (list[str], "1. first\n2) second", ["first", "second"]),
    (list[int], "[1, 2, 3]", [1, 2, 3]),
])
def test_scalars_and_lists(annotation, text, expected):
    assert coerce(annotation, text) == expected


@pytest.mark.parametrize(("annotation", "text"), [
    (int, "no digits"), (int, "2.5"), (bool, "maybe"), (float, ""),
])
def test_unreadable_scalars_say_what_was_expected(annotation, text):
    with pytest.raises(CoercionError, match="expected"):
        coerce(annotation, text)


def test_pydantic_models_parse_from_fenced_or_sloppy_json():
    assert coerce(Person, '```json\n{"name": "Ada", "age": 36}\n```') == Person(name="Ada", age=36)
    assert coerce(Person, "{'name': 'Ada', 'age': 36,}") == Person(name="Ada", age=36)
    with pytest.raises(CoercionError, match="age"):
        coerce(Person, '{"name": "Ada"}')


def test_dicts_parse_from_fenced_or_sloppy_json_with_typed_values():
    assert coerce(dict[str, Any], '```json\n{"query": "tech", "k": 3}\n```') == {"query": "tech", "k": 3}
    assert coerce(dict[str, int], "{'a': '4', 'b': 5,}") == {"a": 4, "b": 5}
    assert coerce(dict[str, str], '{"n": 2}') == {"n": "2"}
    with pytest.raises(CoercionError, match="expected a JSON object"):
        coerce(dict[str, Any], "query: tech")


def test_json_round_trip_of_typed_values():
    for annotation, value in [(Person, Person(name="A", age=1)), (Color, Color.RED), (list[Color], [Color.GREEN]),
                              (str, "x"), (int, 3), (dict[str, Color], {"a": Color.RED})]:
        assert from_jsonable(annotation, to_jsonable(value)) == value


def test_render_is_what_coerce_reads_back():
    for annotation, value in [(Person, Person(name="A", age=1)), (Color, Color.RED), (bool, False), (int, 7),
                              (list[str], ["x", "y"]), (Label, "human"), (dict[str, Any], {"q": [1, "x"]})]:
        assert coerce(annotation, render(value)) == value


@given(st.text(max_size=200))
@pytest.mark.parametrize("annotation", [Label, Color, int, float, bool, list[str], list[int], Person,
                                        dict[str, Any], dict[str, int]])
def test_arbitrary_text_gives_a_value_or_a_coercion_error(annotation, text):
    with contextlib.suppress(CoercionError):
        coerce(annotation, text)
