"""Both programs logged, registered and served by a real `mlflow models serve` on loopback, with the embedded
model, queried over HTTP in every request form; bad requests get 400 naming the field, a failing LM a 5xx."""

import os
import time
from dataclasses import replace

import mlflow
import pytest
import requests

from pipelines import LM, context
from pipelines.datasets import load_dataset
from pipelines.optimizers import KNNFewShot
from pipelines.programs import RAG, Agent, Classify
from pipelines.programs.classify import AnswerType
from pipelines.retrieval.store import VectorStore
from serving.endpoint import free_port, running_server, serve_command, serve_environment
from serving.load_check import LoadCheckFailed
from serving.publish import publish
from serving.registry import promote
from serving.requests import MAX_TEXT_CHARS

pytestmark = pytest.mark.local_lm
LABELS = set(AnswerType.__args__)
QUESTIONS = ["Who wrote Hamlet?", "Where is the Eiffel Tower?"]


def _champion(program, name: str, lm: LM, ask: bool = True) -> str:
    version = publish(program, lm=lm, name=name, ask=ask,
                      scores={"dataset": "test", "metric": "accuracy", "score": 0.5, "optimizer": "none"})
    promote(name, version.version)
    return f"models:/{name}@champion"


def _post(server, body, **kwargs) -> requests.Response:
    return requests.post(server.invocations, timeout=300, **(kwargs or {"json": body}))


def test_server_workers_share_the_cores_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("SIGFLOW_LOCAL_WORKERS", raising=False)
    cores = len(os.sched_getaffinity(0))
    assert serve_command("models:/m@champion", "127.0.0.1", 5000, workers=2)[-2:] == ["--workers", "2"]
    assert serve_environment("sqlite:///x.db", workers=2)["SIGFLOW_LOCAL_WORKERS"] == str(max(1, cores // 2))
    monkeypatch.setenv("SIGFLOW_LOCAL_WORKERS", "3")
    assert serve_environment("sqlite:///x.db", workers=2)["SIGFLOW_LOCAL_WORKERS"] == "3"


def test_classify_answers_every_request_form_and_refuses_bad_requests_while_serving_on():
    pool = load_dataset("trec").split("train", 40)
    compiled = KNNFewShot(k=2).compile(Classify(), pool)
    with context(lm=LM()):
        expected = [compiled(question=question).label for question in QUESTIONS]  # the demos are chosen here too
    uri = _champion(compiled, "classifier", LM())
    with running_server(uri, workers=2) as server:  # two server processes, each with the model
        split = _post(server, {"dataframe_split": {"columns": ["question"], "data": [[q] for q in QUESTIONS]},
                               "params": {"max_tokens": 20}})
        records = _post(server, {"dataframe_records": [{"question": q} for q in QUESTIONS]})
        inputs = _post(server, {"inputs": {"question": QUESTIONS}, "params": {"temperature": 0.0}})
        for response in (split, records, inputs):
            assert response.status_code == 200, response.text
            predictions = response.json()["predictions"]
            assert [row["label"] for row in predictions] == expected
            assert all(row["label"] in LABELS and row["error"] == "" for row in predictions)

        bad = {
            "missing column": ({"dataframe_records": [{"query": "Who?"}]}, "question"),
            "wrong type": ({"dataframe_records": [{"question": 42}]}, "question"),
            "empty text": ({"dataframe_records": [{"question": "   "}]}, "field 'question' of row 0 is empty"),
            "oversized text": ({"dataframe_records": [{"question": "x" * (MAX_TEXT_CHARS + 1)}]},
                               f"the limit is {MAX_TEXT_CHARS}"),
            "bad param": ({"dataframe_records": [{"question": "Who?"}], "params": {"temperature": 9}},
                          "param 'temperature' must be between"),
        }
        for case, (body, message) in bad.items():
            response = _post(server, body)
            assert response.status_code == 400, case
            assert message in response.json()["message"], case
        malformed = _post(server, None, data="{not json", headers={"Content-Type": "application/json"})
        assert malformed.status_code == 400
        assert _post(server, {"dataframe_records": [{"question": "Who painted the Mona Lisa?"}]}).status_code == 200
    nearest = {demo.question for question in QUESTIONS
               for demo in compiled.classify.demo_pool.nearest({"question": question})}
    assert nearest <= _questions_shown_in_logged_traces(len(nearest))  # the pool travelled and was used


def test_rag_answers_with_passage_ids_each_request_is_traced_and_the_callers_groups_bound_what_it_reads():
    bbc = load_dataset("bbc")
    public = bbc.corpus[:20]
    editors_only = [replace(p, metadata={**p.metadata, "groups": ["editors"]}) for p in bbc.corpus[20:40]]
    store = VectorStore.build(public + editors_only)
    uri = _champion(RAG(store, k=2), "bbc-rag", LM())
    question = bbc.split("dev")[0].question
    about_editors_only = f"What happened in '{editors_only[5].title}'?"
    with running_server(uri) as server:
        response = _post(server, {"dataframe_records": [{"question": question}], "params": {"k": 1}})
        span_types = _span_types_of_logged_traces({"RETRIEVER", "CHAT_MODEL", "PARSER"})
        as_nobody = _post(server, {"dataframe_records": [{"question": about_editors_only}]})
        as_editor = _post(server, {"dataframe_records": [{"question": about_editors_only}],
                                   "params": {"groups": ["editors"]}})
    hidden = {p.id for p in editors_only}
    assert as_nobody.status_code == 200 and as_editor.status_code == 200, (as_nobody.text, as_editor.text)
    assert not set(as_nobody.json()["predictions"][0]["passage_ids"]) & hidden
    assert set(as_editor.json()["predictions"][0]["passage_ids"]) & hidden
    assert response.status_code == 200, response.text
    answer = response.json()["predictions"][0]
    assert len(answer["passage_ids"]) == 1 and answer["passage_ids"][0] in {p.id for p in bbc.corpus[:40]}
    assert answer["error"] == "" and answer["answer"].strip()
    assert answer["titles"] == [next(p.title for p in bbc.corpus[:40] if p.id == answer["passage_ids"][0])]
    assert {"RETRIEVER", "CHAT_MODEL", "PARSER"} <= span_types


def test_an_agent_served_for_chat_answers_with_its_tool_calls_traced_and_refuses_bad_requests():
    agent_data = load_dataset("bbc-agent")
    train = agent_data.split("train")
    articles = {example.article_id for example in train}
    store = VectorStore.build([p for p in agent_data.corpus if p.metadata["article_id"] in articles][:60])
    compiled = KNNFewShot(k=3).compile(Agent(store), train)  # labelled trajectories, nearest first
    version = publish(compiled, lm=LM(), name="bbc-agent-chat", chat=True,
                      example={"question": "How many tech articles are there?"})
    promote("bbc-agent-chat", version.version)
    with running_server("models:/bbc-agent-chat@champion") as server:
        response = _post(server, {"input": [{"role": "user", "content": "Which category has the fewest articles?"}]})
        no_input = _post(server, {"messages": [{"role": "user", "content": "hi"}]})
        not_user = _post(server, {"input": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]})
        span_types = _span_types_of_logged_traces({"TOOL", "CHAT_MODEL", "AGENT"})
    assert response.status_code == 200, response.text
    output = response.json()["output"]
    calls = [item for item in output if item["type"] == "function_call"]
    results = {item["call_id"]: item["output"] for item in output if item["type"] == "function_call_output"}
    assert calls and all(call["name"] in ("search_articles", "sql") and call["call_id"] in results for call in calls)
    assert output[-1]["type"] == "message" and output[-1]["content"][0]["text"].strip()
    assert {"TOOL", "CHAT_MODEL", "AGENT"} <= span_types
    assert no_input.status_code == 400 and not_user.status_code == 400
    assert "the last input message must be the user's" in not_user.json()["message"]


def _questions_shown_in_logged_traces(wanted: int, wait_seconds: float = 60) -> set[str]:
    """The demo questions the served model's LM calls showed, from the traces it wrote."""
    deadline = time.monotonic() + wait_seconds
    while True:
        experiments = [experiment.experiment_id for experiment in mlflow.search_experiments()]
        shown = {message["content"].removeprefix("question: ")
                 for trace in mlflow.search_traces(locations=experiments, return_type="list")
                 for span in trace.data.spans if span.span_type == "CHAT_MODEL"
                 for message in (span.inputs or {}).get("messages", [])[1:-1] if message["role"] == "user"}
        if len(shown) >= wanted or time.monotonic() > deadline:
            return shown
        time.sleep(1)


def _span_types_of_logged_traces(wanted: set[str], wait_seconds: float = 60) -> set[str]:
    """The server writes traces asynchronously: poll the store until spans of the wanted types arrive."""
    deadline = time.monotonic() + wait_seconds
    while True:
        experiments = [experiment.experiment_id for experiment in mlflow.search_experiments()]
        traces = mlflow.search_traces(locations=experiments, return_type="list")
        found = {span.span_type for trace in traces for span in trace.data.spans}
        if wanted <= found or time.monotonic() > deadline:
            return found
        time.sleep(1)


def test_a_failing_lm_is_a_server_error_with_the_providers_message(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    closed = f"http://127.0.0.1:{free_port()}/v1"
    lm = LM("openai/gpt-4o-mini", api_base=closed, num_retries=0)
    with pytest.raises(LoadCheckFailed, match=r"loads but does not answer its input example .* Connection error"):
        _champion(Classify(), "unreachable", lm)
    uri = _champion(Classify(), "unreachable", lm, ask=False)  # registered for this test: loaded, never asked
    with running_server(uri) as server:
        failed = _post(server, {"dataframe_records": [{"question": "Who?"}]})
        assert failed.status_code >= 500 and "the LM failed" in failed.json()["message"]
        assert "sk-test-not-a-real-key" not in failed.text
        assert _post(server, {"dataframe_records": [{"question": ""}]}).status_code == 400
