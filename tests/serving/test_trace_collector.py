"""Where served traces go: a local store through a collector process, a tracking server directly; into the
experiment the environment names; and a stopped server's whole session ends before its collector does."""

import subprocess
import time

import mlflow
import pytest
import requests

from pipelines import LM
from pipelines.programs import Classify
from serving.endpoint import running_server, stop_session
from serving.publish import publish
from serving.registry import promote
from serving.trace_collector import DEFAULT_EXPERIMENT_ID, exporter_environment, trace_experiment_id, wants_collector


def test_only_a_store_the_server_would_write_itself_gets_a_collector():
    assert wants_collector("sqlite:////tmp/mlflow.db") and wants_collector("/tmp/mlruns")
    assert wants_collector("postgresql://user@127.0.0.1/mlflow")
    assert not wants_collector("http://127.0.0.1:5000") and not wants_collector("databricks")


def test_the_exporter_sends_batches_over_http_into_the_named_experiment():
    environment = exporter_environment("http://127.0.0.1:5001", "7")
    assert environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == "http://127.0.0.1:5001/v1/traces"
    assert environment["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] == "http/protobuf"
    assert environment["OTEL_EXPORTER_OTLP_TRACES_HEADERS"] == "x-mlflow-experiment-id=7"


def test_the_trace_experiment_is_the_one_the_environment_names_else_the_default(monkeypatch):
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    assert trace_experiment_id() == DEFAULT_EXPERIMENT_ID
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "served")
    created = trace_experiment_id()
    assert mlflow.get_experiment(created).name == "served" and trace_experiment_id() == created
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", "42")
    assert trace_experiment_id() == "42"


def test_stopping_a_session_ends_its_children_too():
    leader = subprocess.Popen(["bash", "-c", "sleep 300 & sleep 300"], start_new_session=True)
    time.sleep(0.5)
    started = time.monotonic()
    stop_session(leader)
    assert time.monotonic() - started < 10 and leader.returncode is not None
    members = subprocess.run(["pgrep", "-g", str(leader.pid)], capture_output=True, text=True).stdout.split()
    assert members == []


@pytest.mark.local_lm
def test_every_request_a_stopped_server_answered_has_its_trace_in_the_store():
    version = publish(Classify(), lm=LM(), name="traced",
                      scores={"dataset": "test", "metric": "accuracy", "score": 0.5, "optimizer": "none"})
    promote("traced", version.version)
    experiment = trace_experiment_id()
    before = len(mlflow.search_traces(locations=[experiment], return_type="list"))
    questions = ["Who wrote Hamlet?", "Where is the Eiffel Tower?", "How many legs has a spider?"]
    with running_server("models:/traced@champion", workers=2) as server:  # its workers end by os._exit
        for question in questions * 2:
            answer = requests.post(server.invocations, timeout=300,
                                   json={"dataframe_records": [{"question": question}]})
            assert answer.status_code == 200, answer.text
    traces = mlflow.search_traces(locations=[experiment], return_type="list")
    assert len(traces) - before == 2 * len(questions)  # the last ones were still batched when it was stopped
    served = [trace for trace in traces if "Eiffel" in trace.info.request_preview]
    assert len(served) == 2 and {span.span_type for span in served[0].data.spans} >= {"CHAIN", "CHAT_MODEL"}
