"""The served model's `failures` param: by default a bad row or a failing LM fails the request (an HTTP 400 or
503 for a served call); with `failures="row"`, as batch scoring asks, only that row fails, its reason in
`error`, and the other rows are answered."""

from types import SimpleNamespace

import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from pipelines import Predict, ScriptedLM
from pipelines.lm.errors import LMError
from serving.bundle import write_bundle
from serving.packaging import model_signature
from serving.program_model import ProgramModel

QUESTIONS = ["Who wrote Hamlet?", "", "Who painted the Mona Lisa?", "Who built the Eiffel Tower?"]


def answers_except_the_tower(messages):
    """An LM whose provider fails for one question and answers the others."""
    question = messages[-1]["content"]
    if "Eiffel" in question:
        return LMError("the provider is down", model="scripted")
    return f"answer: an answer to {question.split(': ', 1)[1]}"


@pytest.fixture
def served(tmp_path):
    with ScriptedLM(responder=answers_except_the_tower) as fake:
        packaged = write_bundle(Predict("question -> answer"), fake.lm(), tmp_path)
        model = ProgramModel(tmp_path)
        model.load_context(SimpleNamespace(artifacts=packaged.artifacts))
        yield model


def test_with_row_failures_each_bad_row_keeps_its_reason_and_the_others_are_answered(served):
    answers = served.predict(None, pd.DataFrame({"question": QUESTIONS}), {"failures": "row"})
    assert list(answers["error"].iloc[[0, 2]]) == ["", ""]
    assert answers["answer"].iloc[0] == "an answer to Who wrote Hamlet?"
    assert answers["error"].iloc[1] == "field 'question' of row 1 is empty"
    assert answers["error"].iloc[3].startswith("the LM failed") and "the provider is down" in answers["error"].iloc[3]
    assert pd.isna(answers["answer"].iloc[1]) and pd.isna(answers["answer"].iloc[3])


def test_by_default_a_bad_row_or_a_failing_lm_fails_the_whole_request(served):
    with pytest.raises(MlflowException, match="field 'question' of row 1 is empty"):
        served.predict(None, pd.DataFrame({"question": QUESTIONS}), None)
    with pytest.raises(MlflowException, match="the LM failed"):
        served.predict(None, pd.DataFrame({"question": QUESTIONS[2:]}), None)
    with pytest.raises(MlflowException, match="param 'failures' Input should be 'request' or 'row'"):
        served.predict(None, pd.DataFrame({"question": QUESTIONS[:1]}), {"failures": "skip"})


def test_failures_is_a_declared_text_param():
    params = {spec["name"]: spec for spec in model_signature(Predict("question -> answer")).params.to_dict()}
    assert params["failures"] == {"name": "failures", "type": "string", "default": "request", "shape": None}
