"""The chat form in process with the scripted LM: a published agent answers a ResponsesAgent request with
its tool calls and final message, streams the same items, and refuses requests it cannot answer."""

import mlflow
import pytest
from mlflow.exceptions import MlflowException

from pipelines import Predict, ReAct, ScriptedLM
from serving.bundle import BundleError
from serving.publish import publish


def lookup(query: str) -> str:
    """Look a city up."""
    return f"{query} is in Italy"


def agent_replies(messages) -> str:
    user = messages[-1]["content"]
    if "next_tool_name" not in messages[0]["content"]:
        return "reasoning: the lookup says so\nanswer: Italy"
    if "(no steps yet)" in user:
        return 'next_thought: look it up\nnext_tool_name: lookup\nnext_tool_args: {"query": "Rome"}'
    return "next_thought: enough\nnext_tool_name: finish\nnext_tool_args: {}"


REQUEST = {"input": [{"role": "user", "content": "Where is Rome?"}]}
REQUEST_FIELDS = dict(REQUEST)
ITEM_TYPES = ["reasoning", "function_call", "function_call_output", "reasoning", "message"]
BAD_REQUESTS = [
    ({"input": []}, "the request has no input message"),
    ({"input": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
     "the last input message must be the user's, got role 'assistant'"),
    ({"input": [{"role": "user", "content": "  "}]}, "the last user message has no text"),
    ({**REQUEST_FIELDS, "temperature": 9.0}, "param 'temperature' must be between 0.0 and 2.0"),
    ({**REQUEST_FIELDS, "max_output_tokens": 0}, "param 'max_output_tokens' must be between 1 and 4096"),
]


def test_a_published_agent_answers_and_streams_its_tool_calls_and_refuses_bad_requests():
    with ScriptedLM(responder=agent_replies) as fake:
        version = publish(ReAct("question -> answer", [lookup]), lm=fake.lm(), name="chat-agent", chat=True,
                          example={"question": "Where is Rome?"})
        model = mlflow.pyfunc.load_model(f"models:/chat-agent/{version.version}")
        output = model.predict(REQUEST)["output"]
        events = list(model.predict_stream(REQUEST))
        for body, message in BAD_REQUESTS:
            with pytest.raises(MlflowException, match=message):
                model.predict(body)
    assert version.tags["interface"] == "chat"
    assert [item["type"] for item in output] == ITEM_TYPES
    call, result = output[1], output[2]
    assert call["name"] == "lookup" and call["arguments"] == '{"query": "Rome"}'
    assert result["call_id"] == call["call_id"] and result["output"] == "Rome is in Italy"
    assert output[-1]["content"][0]["text"] == "Italy"
    assert all(event["type"] == "response.output_item.done" for event in events)
    assert [event["item"]["type"] for event in events] == ITEM_TYPES
    assert events[-1]["item"]["content"][0]["text"] == "Italy"


def test_a_program_of_several_inputs_has_no_chat_form():
    with ScriptedLM() as fake, pytest.raises(BundleError, match="takes the inputs context, question: the chat form"):
        publish(Predict("context, question -> answer"), lm=fake.lm(), name="two-inputs", chat=True)
