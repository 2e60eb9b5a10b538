"""The served RAG sees only what the caller's groups may see: over random group assignments, a request with
some groups never gets a passage of another group, in the answer, the passages columns or the trace."""

import json
from types import SimpleNamespace

import mlflow
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import ScriptedLM
from pipelines.programs import RAG
from pipelines.retrieval import Passage, VectorStore
from serving.bundle import write_bundle
from serving.program_model import ProgramModel

TEXTS = ["Paid leave is 25 days a year.", "Deploys happen on Tuesdays.", "The canteen opens at noon.",
         "Salaries are paid on the last working day.", "The VPN is needed for the wiki.",
         "Laptops are replaced every three years."]
GROUPS = ["hr", "eng", "finance"]


def cites_every_passage_it_was_shown(messages) -> str:
    """An LM that leaks whatever it sees: its answer names every passage whose text is in its prompt."""
    prompt = "\n".join(message["content"] for message in messages)
    return "reasoning: from the context\nanswer: " + " ".join(
        f"d{index}#0" for index, text in enumerate(TEXTS) if text in prompt)


@pytest.fixture(scope="module")
def vectors():
    return VectorStore.build([Passage(f"d{index}#0", f"Doc-{index}", text) for index, text in enumerate(TEXTS)],
                             progress=False).vectors()


def _served(tmp_path, vectors, assignment, lm):
    passages = [Passage(f"d{index}#0", f"Doc-{index}", text, {"groups": groups})
                for index, (text, groups) in enumerate(zip(TEXTS, assignment, strict=True))]
    packaged = write_bundle(RAG(VectorStore.from_vectors(passages, vectors), k=len(TEXTS)), lm, tmp_path)
    model = ProgramModel(tmp_path)
    model.load_context(SimpleNamespace(artifacts=packaged.artifacts))
    return model


def _visible(groups, caller) -> bool:
    return not groups or bool(set(groups) & set(caller))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(assignment=st.lists(st.lists(st.sampled_from(GROUPS), max_size=2, unique=True), min_size=len(TEXTS),
                           max_size=len(TEXTS)),
       caller=st.lists(st.sampled_from(GROUPS), max_size=2, unique=True))
def test_a_request_never_gets_a_passage_outside_its_groups(tmp_path_factory, vectors, assignment, caller):
    hidden = {f"d{index}#0" for index, groups in enumerate(assignment) if not _visible(groups, caller)}
    with ScriptedLM(responder=cites_every_passage_it_was_shown) as fake:
        model = _served(tmp_path_factory.mktemp("model"), vectors, assignment, fake.lm())
        answers = model.predict(None, pd.DataFrame({"question": ["What is the policy?"]}), {"groups": caller})
    mlflow.flush_trace_async_logging()
    trace = mlflow.get_trace(mlflow.get_last_active_trace_id())
    (row,) = answers.to_dict("records")
    visible = {f"d{index}#0" for index in range(len(TEXTS))} - hidden
    assert set(row["passage_ids"]) == visible and set(row["answer"].split()) == visible
    assert not {f"Doc-{identifier[1:-2]}" for identifier in hidden} & set(row["titles"])
    spans = json.dumps([span.to_dict() for span in trace.data.spans])
    assert not any(TEXTS[int(identifier[1:-2])] in spans or identifier in spans for identifier in hidden)


def test_groups_are_a_declared_param_of_a_retrieving_model_and_a_bad_one_is_refused(tmp_path, vectors):
    from mlflow.exceptions import MlflowException

    from serving.packaging import model_signature

    signature = model_signature(RAG(VectorStore.from_vectors(
        [Passage(f"d{index}#0", "t", text) for index, text in enumerate(TEXTS)], vectors)))
    assert signature.params.to_dict()[-1] == {"name": "groups", "type": "string", "default": [], "shape": (-1,)}
    with ScriptedLM(responder=cites_every_passage_it_was_shown) as fake:
        model = _served(tmp_path, vectors, [[] for _ in TEXTS], fake.lm())
        with pytest.raises(MlflowException, match="param 'groups' must be a list of group names"):
            model.predict(None, pd.DataFrame({"question": ["q"]}), {"groups": "hr"})
