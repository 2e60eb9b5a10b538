import time
from typing import Literal

import mlflow
import pytest

from pipelines import Budget, BudgetExceeded, ScriptedLM, track_usage
from pipelines.modules import Predict
from pipelines.tools import Tool, ToolArgumentError, ToolError


def search(query: str, k: int = 3) -> list[str]:
    """Find passages about a topic.

    Longer notes that the prompt does not need."""
    return [f"{query} {index}" for index in range(k)]


def test_a_typed_function_gives_name_description_and_argument_schema():
    tool = Tool(search)
    assert tool.name == "search" and tool.desc == "Find passages about a topic."
    assert tool.describe() == ('search, arguments {"query": string, "k": integer (default 3)}: '
                               "Find passages about a topic.")
    parameters = tool.schema()["function"]["parameters"]
    assert parameters["required"] == ["query"]
    assert parameters["properties"] == {"query": {"type": "string"}, "k": {"type": "integer", "default": 3}}


def test_choices_and_optional_parameters_are_described():
    def count(category: Literal["tech", "sport"], since: int | None = None) -> int:
        """Count articles."""
        return 1

    assert Tool(count).arguments_form() == '{"category": "tech" | "sport", "since": integer | null (default null)}'


def test_arguments_are_coerced_like_output_fields():
    assert Tool(search).run({"query": "cats", "k": "2"}).text == '["cats 0", "cats 1"]'
    assert Tool(search)(query="dogs", k=1) == ["dogs 0"]


@pytest.mark.parametrize(("arguments", "problem"), [
    ({}, "query: Field required"),
    ({"query": "x", "k": "many"}, "k: Input should be a valid integer"),
    ({"query": "x", "limit": 2}, "limit: Extra inputs are not permitted"),
])
def test_bad_arguments_become_an_observation_naming_the_problem(arguments, problem):
    observation = Tool(search).run(arguments)
    assert observation.failed and problem in observation.text
    assert 'its arguments are {"query": string, "k": integer (default 3)}' in observation.text
    with pytest.raises(ToolArgumentError, match=problem):
        Tool(search)(**arguments)


def test_an_exception_in_the_tool_becomes_an_observation():
    def divide(a: int, b: int) -> float:
        return a / b

    observation = Tool(divide).run({"a": 1, "b": 0})
    assert observation.failed and observation.text == "error: divide raised ZeroDivisionError: division by zero"


def test_a_tools_own_timeout_error_is_an_ordinary_failure():
    def fetch(url: str) -> str:
        raise TimeoutError("the socket timed out")

    for tool in (Tool(fetch), Tool(fetch, timeout_seconds=None)):
        observation = tool.run({"url": "x"})
        assert observation.failed and observation.text == "error: fetch raised TimeoutError: the socket timed out"


def test_a_number_written_for_text_is_taken_as_text():
    assert Tool(search).run({"query": 2004, "k": 1}).text == '["2004 0"]'


def test_a_call_past_its_timeout_is_reported_and_the_caller_goes_on():
    def slow() -> str:
        time.sleep(5)
        return "late"

    started = time.perf_counter()
    observation = Tool(slow, timeout_seconds=0.2).run({})
    assert time.perf_counter() - started < 2
    assert observation.failed and observation.text == "error: slow did not answer within 0.2 s"


def test_a_tool_that_calls_an_lm_is_counted_and_budgeted_in_the_callers_scope():
    with ScriptedLM(["answer: 4"] * 3) as fake:
        ask = Predict("question -> answer", lm=fake.lm(cache=False))

        def calculator(question: str) -> str:
            return ask(question=question).answer

        with track_usage() as usage:
            assert Tool(calculator).run({"question": "2+2"}).text == "4"
        assert usage.total.calls == 1
        with Budget(max_calls=0), pytest.raises(BudgetExceeded):
            Tool(calculator).run({"question": "2+2"})


def test_a_tool_call_is_a_tool_span_of_the_active_trace():
    with mlflow.start_span(name="agent") as root:
        Tool(search).run({"query": "cats", "k": 1})
    (span,) = [span for span in mlflow.get_trace(root.trace_id, flush=True).data.spans if span.name == "search"]
    assert span.span_type == "TOOL" and span.inputs == {"query": "cats", "k": 1}
    assert span.outputs == ["cats 0"] and span.attributes["failed"] is False


def gather(*items: str) -> str:
    return " ".join(items)


@pytest.mark.parametrize(("func", "name", "message"), [
    (gather, None, "'items' must be an ordinary named parameter"),
    (search, "finish", "must be an identifier other than 'finish'"),
    (lambda query: query, None, "tool name '<lambda>' must be an identifier"),
    ("search", None, "a tool wraps a function"),
])
def test_functions_that_cannot_be_tools_are_refused(func, name, message):
    with pytest.raises(ToolError, match=message):
        Tool(func, name=name)
