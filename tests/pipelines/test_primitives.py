import pytest

from pipelines import Example, Prediction


def test_inputs_and_labels():
    example = Example(question="q", answer="a", id="ex-1").with_inputs("question")
    assert example.inputs() == {"question": "q"}
    assert example.labels() == {"answer": "a"}
    assert example.question == "q" and example["answer"] == "a"
    assert example.example_id == "ex-1"


def test_example_id_is_a_stable_hash_of_the_inputs_when_there_is_no_id():
    first = Example(question="q", answer="a").with_inputs("question")
    same_inputs = Example(question="q", answer="other").with_inputs("question")
    other = Example(question="r", answer="a").with_inputs("question")
    assert first.example_id == same_inputs.example_id != other.example_id


def test_marking_a_missing_field_as_input_is_an_error():
    with pytest.raises(KeyError, match="has only"):
        Example(question="q").with_inputs("context")


def test_inputs_need_marking_first():
    with pytest.raises(ValueError, match="with_inputs"):
        Example(question="q").inputs()


def test_records_are_immutable_and_name_missing_fields():
    prediction = Prediction(answer="a")
    with pytest.raises(AttributeError, match="immutable"):
        prediction.answer = "b"
    with pytest.raises(AttributeError, match="no field 'label'"):
        _ = prediction.label
    assert prediction.usage.calls == 0 and prediction.cached is False
