import mlflow
import pytest

from pipelines import Budget, BudgetExceeded, Completion, Example, Module, ScriptedLM, context
from pipelines.lm.transports import native_tools
from pipelines.modules.react import ANSWER_STEP, STEP, TRAJECTORY, ReAct
from pipelines.optimizers import BootstrapFewShot
from pipelines.settings import LOCAL_MODEL
from pipelines.tools import Tool, ToolError


def search(query: str) -> str:
    """Find passages about a topic."""
    return f"{query} live in Rome"


def count(category: str) -> int:
    """Count the articles of a category."""
    return {"tech": 401}[category]


def call(tool: str, arguments: str, thought: str = "look it up") -> str:
    return f"next_thought: {thought}\nnext_tool_name: {tool}\nnext_tool_args: {arguments}"


FINISH = call("finish", "{}", thought="enough")
ANSWER = "reasoning: the passage says so\nanswer: Rome"


def run(agent: ReAct, answers: list[str], **inputs) -> tuple:
    with ScriptedLM(answers) as fake, context(lm=fake.lm()):
        return agent(**inputs), fake.history


def test_each_step_calls_a_tool_until_finish_then_answers_from_the_trajectory():
    agent = ReAct("question -> answer", [search, count])
    prediction, history = run(agent, [call("search", '{"query": "cats"}'), FINISH, ANSWER], question="where?")
    assert prediction.answer == "Rome"
    assert [step["tool"] for step in prediction[TRAJECTORY]] == ["search", "finish"]
    assert prediction[TRAJECTORY][0]["observation"] == "cats live in Rome"
    assert prediction.usage.calls == 3
    second_step, extract = history[1].messages[-1]["content"], history[2].messages[-1]["content"]
    assert 'call 1: search({"query": "cats"})\nobservation 1: cats live in Rome' in second_step
    assert "call 2: finish({})" in extract


def test_the_tools_and_their_arguments_are_listed_for_the_step():
    agent = ReAct("question -> answer", [search, Tool(count, name="articles")])
    system = agent.step.format_prompt(question="q", trajectory="(no steps yet)").split("--- user ---")[0]
    assert '  search, arguments {"query": string}: Find passages about a topic.' in system
    assert '  articles, arguments {"category": string}: Count the articles of a category.' in system
    assert "  finish, arguments {}: the trajectory holds what is needed" in system
    assert "next_tool_name: <one of: search, articles, finish>" in system


def test_bad_arguments_and_failing_tools_are_observations_and_the_agent_goes_on():
    agent = ReAct("question -> answer", [search, count])
    prediction, history = run(agent, [call("search", '{"topic": "cats"}'), call("count", '{"category": "art"}'),
                                      call("count", '{"category": "tech"}'), FINISH, ANSWER], question="how many?")
    steps = prediction[TRAJECTORY]
    assert [step["failed"] for step in steps] == [True, True, False, False]
    assert "bad arguments for search: query: Field required" in steps[0]["observation"]
    assert steps[1]["observation"] == "error: count raised KeyError: 'art'"
    assert steps[2]["observation"] == "401"
    assert "observation 1: error: bad arguments for search" in history[1].messages[-1]["content"]


def test_a_repeated_call_ends_the_loop_without_calling_the_tool_again():
    calls = []

    def lookup(query: str) -> str:
        calls.append(query)
        return "nothing"

    agent = ReAct("question -> answer", [lookup])
    prediction, history = run(agent, [call("lookup", '{"query": "a"}'), call("lookup", '{"query": "a"}'), ANSWER],
                              question="q")
    last = prediction[TRAJECTORY][-1]
    assert calls == ["a"] and len(history) == 3
    assert last["ends_run"] and last["observation"].startswith("the same call as step 1")


def test_the_step_limit_ends_the_loop_and_the_agent_still_answers():
    agent = ReAct("question -> answer", [search], max_steps=2)
    prediction, history = run(agent, [call("search", '{"query": "a"}'), call("search", '{"query": "b"}'), ANSWER],
                              question="q")
    assert len(prediction[TRAJECTORY]) == 2 and prediction.answer == "Rome"
    assert len(history) == 3


def test_an_unreadable_step_ends_the_loop_with_what_was_found():
    agent = ReAct("question -> answer", [search])
    prediction, history = run(agent, [call("search", '{"query": "a"}'), "no idea", "still no idea", ANSWER],
                              question="q")
    last = prediction[TRAJECTORY][-1]
    assert last["failed"] and last["tool"] == "" and "could not be read" in last["observation"]
    assert prediction.answer == "Rome" and len(history) == 4


def test_long_observations_are_shortened_for_later_steps_but_kept_whole_in_the_trajectory():
    agent = ReAct("question -> answer", [Tool(lambda query: "x" * 50, name="fetch")], max_observation_chars=10)
    prediction, history = run(agent, [call("fetch", '{"query": "a"}'), FINISH, ANSWER], question="q")
    assert "observation 1: xxxxxxxxxx ...\n" in history[1].messages[-1]["content"] + "\n"
    assert prediction[TRAJECTORY][0]["observation"] == "x" * 50


def test_a_spent_budget_stops_the_agent():
    agent = ReAct("question -> answer", [search])
    with pytest.raises(BudgetExceeded), Budget(max_calls=1):
        run(agent, [call("search", '{"query": "a"}'), FINISH, ANSWER], question="q")


def test_every_tool_call_is_a_tool_span_under_the_agents_trace():
    agent = ReAct("question -> answer", [search, count])
    with mlflow.start_span(name="agent") as root:
        run(agent, [call("search", '{"query": "cats"}'), call("count", '{"category": "tech"}'), FINISH, ANSWER],
            question="q")
    spans = mlflow.get_trace(root.trace_id, flush=True).data.spans
    assert [(span.name, span.inputs) for span in spans if span.span_type == "TOOL"] == [
        ("search", {"query": "cats"}), ("count", {"category": "tech"})]


def test_bootstrapped_demos_are_whole_trajectories():
    agent = ReAct("question -> answer", [search])
    answers = [call("search", '{"query": "cats"}'), FINISH, ANSWER]
    with ScriptedLM(answers) as fake, context(lm=fake.lm()):
        trainset = [Example(question="where do cats live?", answer="Rome").with_inputs("question")]
        compiled = BootstrapFewShot(lambda example, prediction: prediction["answer"] == example.answer,
                                    max_bootstrapped_demos=1, max_labeled_demos=0).compile(agent, trainset)
    step_demos = compiled.step.demos
    assert [demo.next_tool_name for demo in step_demos] == ["search", "finish"]
    assert step_demos[0].trajectory == "(no steps yet)"
    assert "observation 1: cats live in Rome" in step_demos[1].trajectory
    assert compiled.extract.predict.demos[0].answer == "Rome"


def test_an_example_labelled_with_its_calls_demonstrates_every_step_with_real_observations():
    agent = ReAct("question -> answer", [search, count])
    example = Example(question="where?", answer="Rome", calls=[
        {"thought": "search first", "tool": "search", "arguments": {"query": "cats"}},
        {"thought": "then count", "tool": "count", "arguments": {"category": "tech"}}]).with_inputs("question")
    demos = agent.demonstrate(example)
    steps = demos["step"]
    assert [demo.next_tool_name for demo in steps] == ["search", "count", "finish"]
    assert steps[0].trajectory == "(no steps yet)" and steps[0].input_keys == ("question", "trajectory")
    assert "observation 1: cats live in Rome" in steps[1].trajectory
    assert "observation 2: 401" in steps[2].trajectory and steps[2].next_tool_args == {}
    (answer,) = demos["extract.predict"]
    assert answer.answer == "Rome" and answer.trajectory.endswith("observation 2: 401")


def test_demo_steps_show_observations_shortened_and_the_answer_demo_shows_them_whole():
    agent = ReAct("question -> answer", [search], demo_observation_chars=8)
    example = Example(question="where?", answer="Rome", calls=[
        {"thought": "search first", "tool": "search", "arguments": {"query": "cats"}}]).with_inputs("question")
    demos = agent.demonstrate(example)
    assert demos["step"][1].trajectory.endswith("observation 1: cats liv ...")
    assert demos["extract.predict"][0].trajectory.endswith("observation 1: cats live in Rome")


def test_a_labelled_call_that_fails_is_refused_not_shown_as_a_demo():
    example = Example(id="q7", question="q", calls=[{"thought": "t", "tool": "count", "arguments": {
        "category": "art"}}]).with_inputs("question")
    with pytest.raises(ValueError, match=r"example 'q7': its labelled call count\(\{\"category\": \"art\"\}\) failed"):
        ReAct("question -> answer", [count]).demonstrate(example)


def test_the_demonstrated_steps_are_named_as_the_agents_predictors():
    assert [name for name, _ in ReAct("question -> answer", [search]).named_predictors()] == [STEP, ANSWER_STEP]


@pytest.mark.parametrize(("calls", "message"), [
    ("search", "labels its 'calls' with a list of tool calls"),
    ([{"thought": "t", "tool": "search", "arguments": "cats"}], "arguments \\(a dict\\)"),
    ([{"tool": "search", "arguments": {}}], "each of 'calls' is a dict of thought, tool and arguments"),
    ([{"thought": "t", "tool": "fetch", "arguments": {}}], "names the tool 'fetch'; the agent has search"),
])
def test_malformed_labelled_calls_are_named(calls, message):
    example = Example(question="q", calls=calls).with_inputs("question")
    with pytest.raises(ValueError, match=message):
        ReAct("question -> answer", [search]).demonstrate(example)


def test_a_saved_agent_loads_its_demos_and_instructions(tmp_path):
    agent = ReAct("question -> answer", [search])
    agent.step.demos = [Example(question="q", trajectory="(no steps yet)", next_thought="t", next_tool_name="finish",
                                next_tool_args={}).with_inputs("question", "trajectory")]
    agent.save(tmp_path / "agent.json")
    loaded = ReAct("question -> answer", [search]).load(tmp_path / "agent.json")
    assert loaded.step.demos[0].next_tool_args == {} and loaded.step.signature == agent.step.signature


@pytest.mark.parametrize(("tools", "message"), [
    ([], "at least one tool"),
    ([search, Tool(count, name="search")], "two tools are named 'search'"),
])
def test_tool_sets_that_cannot_work_are_refused(tools, message):
    with pytest.raises(ToolError, match=message):
        ReAct("question -> answer", tools)


class Counter(Module):
    """An agent whose tool is its own method: a copy of the program must call the copy's."""

    def __init__(self):
        self.calls = 0
        self.agent = ReAct("question -> answer", [self.tally])

    def tally(self, step: int) -> int:
        self.calls += step
        return self.calls

    def forward(self, question):
        return self.agent(question=question)


def test_a_copied_program_calls_its_own_methods_as_tools():
    original = Counter()
    copied = original.deepcopy()
    copied.agent.tools["tally"].run({"step": 2})
    assert (original.calls, copied.calls) == (0, 2)


def native(name: str, arguments: str, text: str = "") -> Completion:
    return Completion(text=text, model="scripted", tool_calls=({"name": name, "arguments": arguments},))


def test_a_provider_with_native_tool_calls_is_offered_the_tools_and_its_calls_are_read():
    agent = ReAct("question -> answer", [search])
    answers = [native("search", '{"query": "cats"}', text="look it up"), native("finish", "{}"), ANSWER]
    with ScriptedLM(answers, native_tools=True) as fake, context(lm=fake.lm()):
        prediction = agent(question="where?")
    first = fake.history[0].params
    assert [tool["function"]["name"] for tool in first["tools"]] == ["search", "finish"]
    assert first["tools"][0]["function"]["parameters"]["properties"] == {"query": {"type": "string"}}
    assert first["tool_choice"] == "required" and "tools" not in fake.history[2].params
    steps = prediction[TRAJECTORY]
    assert [(step["tool"], step["thought"]) for step in steps] == [("search", "look it up"), ("finish", "")]
    assert steps[0]["observation"] == "cats live in Rome" and prediction.answer == "Rome"


def test_a_native_call_of_an_unknown_tool_ends_the_calls():
    agent = ReAct("question -> answer", [search])
    with ScriptedLM([native("delete_everything", "{}"), ANSWER], native_tools=True) as fake, \
            context(lm=fake.lm()):
        prediction = agent(question="where?")
    (step,) = prediction[TRAJECTORY]
    assert step["ends_run"] and "the provider called 'delete_everything'" in step["observation"]


def test_models_without_native_tools_write_their_calls_as_text():
    assert not native_tools(LOCAL_MODEL)
    with ScriptedLM([FINISH, ANSWER]) as fake, context(lm=fake.lm()):
        ReAct("question -> answer", [search])(question="q")
    assert "tools" not in fake.history[0].params
