import contextlib
import json
import shutil
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines import LM, ChainOfThought, Example, Module, Predict, Signature, StateError
from pipelines.adapter import format_messages
from pipelines.demo_pool import DemoPool

FIXTURES = Path(__file__).parents[1] / "fixtures"


class Program(Module):
    def __init__(self):
        self.classify = Predict(Signature("question -> label: Literal['human', 'location']"))
        self.answer = ChainOfThought("question -> answer")

    def forward(self, question):
        return self.answer(question=question)


def _trained() -> Program:
    program = Program()
    program.classify.signature = program.classify.signature.with_instructions("Say who or where.")
    program.classify.demos = [Example(question="Who wrote Hamlet?", label="human").with_inputs("question")]
    program.answer.predict.demos = [{"question": "2+2?", "reasoning": "Add.", "answer": "4"}]
    program.answer.predict.lm = LM("openai/gpt-4o-mini", max_tokens=50, api_key="sk-test-SECRET-1")
    return program


def _prompts(program: Program) -> list:
    return [format_messages(p.signature, p.demos, {"question": "Where is Rome?"}) for p in program.predictors()]


def test_round_trip_gives_identical_prompts(tmp_path):
    original = _trained()
    original.save(tmp_path / "program.json")
    loaded = Program().load(tmp_path / "program.json")
    assert _prompts(loaded) == _prompts(original)
    assert loaded.fingerprint() == original.fingerprint()
    assert loaded.answer.predict.lm.model == "openai/gpt-4o-mini"
    assert loaded.answer.predict.lm.max_tokens == 50
    assert loaded.classify.demos[0].inputs() == {"question": "Who wrote Hamlet?"}


def test_saved_state_is_json_without_secrets(tmp_path):
    _trained().save(tmp_path / "program.json")
    text = (tmp_path / "program.json").read_text()
    state = json.loads(text)
    assert state["format"] == "sigflow.program" and state["version"] == 3
    assert set(state["predictors"]) == {"classify", "answer.predict"}
    assert "SECRET" not in text and "api_key" not in text


def test_every_mismatch_is_reported_at_once(tmp_path):
    _trained().save(tmp_path / "program.json")

    class Other(Module):
        def __init__(self):
            self.classify = Predict("question -> label: int")
            self.summarize = Predict("text -> summary")

    with pytest.raises(StateError) as raised:
        Other().load(tmp_path / "program.json")
    message = str(raised.value)
    assert "predictor 'answer.predict' is in" in message
    assert "predictor 'summarize' of the program is missing" in message
    assert ("output label: Literal['human', 'location'] in the saved state, "
            "input question: str, output label: int") in message


def test_a_newer_format_is_refused_with_a_clear_message(tmp_path):
    state = json.loads((FIXTURES / "program_state_v1.json").read_text())
    state["version"] = 4
    (tmp_path / "newer.json").write_text(json.dumps(state))
    with pytest.raises(StateError, match="format version 4; this sigflow reads up to 3: upgrade"):
        Program().load(tmp_path / "newer.json")


@pytest.mark.parametrize("content", ["not json", "[]", '{"format": "other"}', ""])
def test_files_that_are_not_state_are_refused(tmp_path, content):
    (tmp_path / "bad.json").write_text(content)
    with pytest.raises(StateError):
        Program().load(tmp_path / "bad.json")


def test_the_version_1_fixture_still_loads(tmp_path):
    shutil.copy(FIXTURES / "program_state_v1.json", tmp_path / "v1.json")
    program = Program().load(tmp_path / "v1.json")
    assert program.classify.signature.instructions == "Say who or where."
    assert program.classify.demos[0]["label"] == "human"
    assert program.answer.predict.lm is None
    assert program.classify.demo_pool is None


def test_the_version_2_fixture_still_loads_its_pool_as_semantic(tmp_path):
    shutil.copy(FIXTURES / "program_state_v2.json", tmp_path / "v2.json")
    program = Program().load(tmp_path / "v2.json")
    pool = program.classify.demo_pool
    assert (pool.k, pool.keys, pool.similarity) == (1, ("question",), "semantic")
    assert [demo["label"] for demo in pool.demos] == ["human", "location"]
    assert program.answer.predict.omitted == ("reasoning",)


def test_a_lexical_pool_round_trips_and_chooses_as_it_did(tmp_path):
    program = Program()
    demos = [Example(question=question, label=label).with_inputs("question") for question, label in (
        ("Who wrote the novel Hamlet?", "human"), ("Where is the town of Hamlet?", "location"))]
    program.classify.demo_pool = DemoPool(demos, k=1, keys=["question"], similarity="lexical")
    program.save(tmp_path / "program.json")
    loaded = Program().load(tmp_path / "program.json").classify.demo_pool
    assert loaded.similarity == "lexical"
    assert loaded.nearest({"question": "Where is Hamlet?"})[0]["label"] == "location"


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children,
                                                                                     max_size=4), max_leaves=12))
def test_arbitrary_json_is_loaded_or_refused_with_state_error(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("fuzz") / "state.json"
    fixture = json.loads((FIXTURES / "program_state_v1.json").read_text())
    for candidate in (value, {**fixture, "predictors": value},
                      {**fixture, "predictors": {**fixture["predictors"], "classify": value}}):
        path.write_text(json.dumps(candidate))
        with contextlib.suppress(StateError):
            Program().load(path)


def test_literal_annotation_is_kept_on_load(tmp_path):
    _trained().save(tmp_path / "p.json")
    loaded = Program().load(tmp_path / "p.json")
    assert loaded.classify.signature.output_fields["label"].annotation == Literal["human", "location"]


def test_a_bad_value_deep_inside_leaves_the_program_untouched(tmp_path):
    state = json.loads((FIXTURES / "program_state_v1.json").read_text())
    state["predictors"]["classify"]["instructions"] = "new instructions"
    state["predictors"]["answer.predict"]["lm"] = {"model": "openai/x", "num_retries": -1}
    (tmp_path / "bad.json").write_text(json.dumps(state))
    program = Program()
    before = program.fingerprint()
    with pytest.raises(StateError, match=r"'answer\.predict' cannot be loaded: num_retries"):
        program.load(tmp_path / "bad.json")
    assert program.fingerprint() == before
