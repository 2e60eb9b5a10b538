"""LM calls become spans inside a caller's MLflow trace, and never start traces of their own."""

import mlflow

from pipelines import ScriptedLM


def test_a_call_inside_a_trace_is_a_child_span_without_secrets():
    with ScriptedLM(["Paris"]) as fake:
        lm = fake.lm(api_key="sk-test-SECRET-999")
        with mlflow.start_span(name="program") as root:
            lm("What is the capital of France?")
        trace = mlflow.get_trace(root.trace_id, flush=True)
    spans = {span.name: span for span in trace.data.spans}
    lm_span = spans[f"LM {fake.model}"]
    assert lm_span.parent_id == root.span_id
    assert lm_span.outputs == "Paris"
    assert lm_span.attributes["cached"] is False
    assert "SECRET" not in str(lm_span.inputs)


def test_a_call_outside_any_trace_creates_no_trace():
    with ScriptedLM(["x"]) as fake:
        fake.lm()("q")
    assert mlflow.search_traces(return_type="list") == []

