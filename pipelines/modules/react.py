"""`ReAct`: an agent that reasons and calls tools in turn until it can answer, then answers.

Each step is one `Predict` call (a thought, a tool's name, its arguments as JSON) through sigflow's own
adapter, so it works with any model that can follow a reply format, the embedded 0.5B one included, and
optimizers give the step demos and instructions like any other. A last chain-of-thought step writes the
signature's outputs from the whole trajectory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pipelines import adapter, fieldtypes, prompts
from pipelines.adapter import ParseError
from pipelines.config import current_lm
from pipelines.fieldtypes import render
from pipelines.lm.scope import scoped
from pipelines.lm.transports import native_tools
from pipelines.modules.chain_of_thought import ChainOfThought
from pipelines.modules.module import Module
from pipelines.modules.predict import Predict
from pipelines.modules.trace import record_step
from pipelines.primitives import Example, Prediction
from pipelines.signatures import Field, Signature, SignatureError, ensure_signature
from pipelines.tools import FINISH, Tool, ToolError, as_tool

TRAJECTORY = "trajectory"
THOUGHT, TOOL_NAME, TOOL_ARGS = "next_thought", "next_tool_name", "next_tool_args"
STEP, ANSWER_STEP = "step", "extract.predict"
"""The names of an agent's two predictors inside it (`demonstrate` gives demos by these names)."""
CALLS = "calls"
"""The label of an example that shows how an agent should work: a list of {"thought", "tool", "arguments"},
the tool calls to make in order (finish is implied)."""
MAX_OBSERVATION_CHARS = 2000
"""How much of one observation the later steps read: a long one would crowd the small model's context."""
DEMO_OBSERVATION_CHARS = 300
"""How much of one observation a labelled demo trajectory shows: a demo teaches which tool to call next,
and a few demos of whole search results would fill a small model's context on their own."""


@dataclass(frozen=True)
class Step:
    """One step of a trajectory: what the agent thought, the tool it called and what came back."""

    thought: str
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    observation: str = ""
    failed: bool = False
    ends_run: bool = False
    """The agent could not go on: its reply was unreadable, or it repeated a call it had made."""


_step_listener: ContextVar[Callable[[Step], None] | None] = ContextVar("sigflow_react_steps", default=None)


def watching_steps(listener: Callable[[Step], None]) -> AbstractContextManager:
    """Call `listener` with each step an agent takes in this block, as it is taken: a served agent streams
    its tool calls this way."""
    return scoped(_step_listener, listener)


class ReAct(Module):
    """Fills `signature`'s outputs using `tools` (functions or `Tool`s): at most `max_steps` tool calls,
    then the answer. With a provider that calls tools natively (`native_tools=None` asks the LM; True or
    False decides) each step offers the tools as function definitions and reads the call the provider makes;
    otherwise the call is written as text. An unreadable step, or a call the agent has made before, ends the
    calls early. The
    prediction also holds the `trajectory`: one dict per step (thought, tool, arguments, observation,
    failed, ends_run), the last naming `finish` when the agent chose to stop."""

    def __init__(self, signature: str | Signature, tools: list[Tool | Any], *, max_steps: int = 5,
                 max_observation_chars: int = MAX_OBSERVATION_CHARS,
                 demo_observation_chars: int = DEMO_OBSERVATION_CHARS, native_tools: bool | None = None):
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        self.signature = ensure_signature(signature)
        if any(field.name == TRAJECTORY for field in self.signature.fields):
            raise SignatureError(f"a ReAct signature cannot have its own {TRAJECTORY!r} field")
        self.tools = _by_name([as_tool(tool) for tool in tools])
        self.max_steps = max_steps
        self.max_observation_chars = max_observation_chars
        self.demo_observation_chars = demo_observation_chars
        self.native_tools = native_tools
        self.step = Predict(_step_signature(self.signature, self.tools))
        self.extract = ChainOfThought(_extract_signature(self.signature))

    def forward(self, **inputs: Any) -> Prediction:
        steps: list[Step] = []
        while len(steps) < self.max_steps:
            taken = self._take_step(inputs, steps)
            steps.append(taken)
            if (listener := _step_listener.get()) is not None:
                listener(taken)
            if taken.tool == FINISH or taken.ends_run:
                break
        answer = self.extract(**inputs, **{TRAJECTORY: self.render_trajectory(steps)})
        outputs = {name: answer[name] for name in self.signature.output_fields}
        return Prediction({**outputs, TRAJECTORY: [asdict(step) for step in steps]})

    def _take_step(self, inputs: dict[str, Any], steps: list[Step]) -> Step:
        step_inputs = {**inputs, TRAJECTORY: self.render_trajectory(steps)}
        try:
            chosen = self._native_choice(step_inputs) if self._calls_natively() else self.step(**step_inputs)
        except ParseError as error:  # the agent could not say what to do: answer from what it has
            return Step(thought="", tool="", observation=f"error: the step's reply could not be read: {error}",
                        failed=True, ends_run=True)
        name, arguments = chosen[TOOL_NAME], chosen[TOOL_ARGS]
        if name == FINISH:
            return Step(chosen[THOUGHT], FINISH, arguments)
        repeated = next((number for number, step in enumerate(steps, start=1)
                         if (step.tool, step.arguments) == (name, arguments)), None)
        if repeated is not None:  # a small model that repeats itself goes on repeating: answer instead
            text = prompts.REACT_REPEATED.format(tool=name, step=repeated)
            return Step(chosen[THOUGHT], name, arguments, text, failed=True, ends_run=True)
        observation = self.tools[name].run(arguments)
        return Step(chosen[THOUGHT], name, arguments, observation.text, observation.failed)

    def _calls_natively(self) -> bool:
        if self.native_tools is not None:
            return self.native_tools
        return native_tools((self.step.lm or current_lm()).model)

    def _native_choice(self, step_inputs: dict[str, Any]) -> dict[str, Any]:
        """The step as the provider's own tool call: the same messages (demos included), the tools as
        function definitions, the call it makes read back as the step's outputs."""
        signature, asked = self.step.request(step_inputs)
        messages = adapter.format_messages(signature, self.step.demos_for(step_inputs), asked)
        definitions = [tool.schema() for tool in self.tools.values()] + [_finish_schema()]
        completion = (self.step.lm or current_lm()).complete(messages, tools=definitions, tool_choice="required",
                                                             **self.step.config)
        if completion.tool_calls:
            outputs = _read_tool_call(completion.tool_calls[0], [*self.tools, FINISH], completion.text)
        else:  # a provider that answered in text after all
            outputs = adapter.parse(signature, completion.text)
        record_step(self.step, step_inputs, outputs)
        return outputs

    def demonstrate(self, example: Mapping[str, Any]) -> dict[str, list[Example]]:
        """The demos an example labelled with its `calls` makes, by predictor name: one step demo per call
        and one for finishing (each seeing the trajectory so far, with the tools' real observations), and
        an answer demo when the example labels the outputs. A labelled trajectory shows a small model a
        tool that its own runs never chose; its step demos show the observations shortened
        (`demo_observation_chars`), its answer demo whole, as the answer is read from them."""
        inputs = {name: example[name] for name in self.signature.input_fields}
        steps: list[Step] = []
        step_demos = []
        finish = {"thought": prompts.REACT_FINISH_THOUGHT, "tool": FINISH, "arguments": {}}
        for call in [*_labelled_calls(example, self.tools), finish]:
            shown = self.render_trajectory(steps, self.demo_observation_chars)
            step_demos.append(Example({**inputs, TRAJECTORY: shown, THOUGHT: call["thought"],
                                       TOOL_NAME: call["tool"], TOOL_ARGS: call["arguments"]},
                                      input_keys=(*inputs, TRAJECTORY)))
            if call["tool"] != FINISH:
                observation = self.tools[call["tool"]].run(call["arguments"])
                if observation.failed:  # a demo of a failing call would teach the agent to give up
                    raise ValueError(f"example {example.get('id', '')!r}: its labelled call {call['tool']}"
                                     f"({render(call['arguments'])}) failed: {observation.text}")
                steps.append(Step(call["thought"], call["tool"], call["arguments"], observation.text,
                                  observation.failed))
        demos = {STEP: step_demos, ANSWER_STEP: []}
        outputs = {name: example[name] for name in self.signature.output_fields if name in example}
        if outputs:
            demos[ANSWER_STEP].append(Example({**inputs, TRAJECTORY: self.render_trajectory(steps), **outputs},
                                                    input_keys=(*inputs, TRAJECTORY)))
        return demos

    def render_trajectory(self, steps: list[Step], observation_chars: int | None = None) -> str:
        """The trajectory as the steps read it: numbered thoughts, calls and observations shortened to
        `observation_chars` (by default `max_observation_chars`)."""
        limit = observation_chars or self.max_observation_chars
        if not steps:
            return prompts.TRAJECTORY_EMPTY
        lines = []
        for number, step in enumerate(steps, start=1):
            if step.thought:
                lines.append(f"thought {number}: {step.thought}")
            if step.tool:
                lines.append(f"call {number}: {step.tool}({render(step.arguments)})")
            if step.observation:
                lines.append(f"observation {number}: {_shortened(step.observation, limit)}")
        return "\n".join(lines)


def _finish_schema() -> dict[str, Any]:
    return {"type": "function", "function": {"name": FINISH, "description": prompts.REACT_FINISH_THOUGHT,
                                             "parameters": {"type": "object", "properties": {}}}}


def _read_tool_call(call: dict[str, str], names: list[str], text: str) -> dict[str, Any]:
    if call["name"] not in names:
        raise ParseError(f"the provider called {call['name']!r}; the tools are {', '.join(names)}", raw=str(call))
    try:
        arguments = fieldtypes.coerce(dict[str, Any], call["arguments"])
    except fieldtypes.CoercionError as error:
        raise ParseError(f"the arguments of {call['name']!r}: {error}", raw=str(call)) from None
    return {THOUGHT: text.strip(), TOOL_NAME: call["name"], TOOL_ARGS: arguments}


def _labelled_calls(example: Mapping[str, Any], tools: dict[str, Tool]) -> list[dict[str, Any]]:
    calls = example.get(CALLS)
    if not isinstance(calls, list):
        raise ValueError(f"an example that demonstrates an agent labels its {CALLS!r} with a list of tool calls, "
                         f"got {type(calls).__name__}")
    for call in calls:
        if not isinstance(call, dict) or set(call) != {"thought", "tool", "arguments"} or not isinstance(
                call["arguments"], dict):
            raise ValueError(f"each of {CALLS!r} is a dict of thought, tool and arguments (a dict), got {call!r}")
        if call["tool"] not in tools:
            raise ValueError(f"a labelled call names the tool {call['tool']!r}; the agent has {', '.join(tools)}")
    return calls


def _by_name(tools: list[Tool]) -> dict[str, Tool]:
    if not tools:
        raise ToolError("ReAct needs at least one tool")
    named: dict[str, Tool] = {}
    for tool in tools:
        if tool.name in named:
            raise ToolError(f"two tools are named {tool.name!r}; give one another name with Tool(..., name=...)")
        named[tool.name] = tool
    return named


def _step_signature(signature: Signature, tools: dict[str, Tool]) -> Signature:
    listed = "\n".join(f"  {tool.describe()}" for tool in tools.values())
    listed += "\n  " + prompts.REACT_FINISH.format(finish=FINISH)
    outputs = ", ".join(f"`{name}`" for name in signature.output_fields)
    instructions = prompts.REACT_STEP.format(task=signature.instructions.strip(), outputs=outputs, finish=FINISH)
    return Signature([
        *signature.input_fields.values(),
        Field(TRAJECTORY, str, "the steps taken so far", is_input=True),
        Field(THOUGHT, str, "what is known and what is still missing", is_input=False),
        Field(TOOL_NAME, Literal[(*tools, FINISH)], prompts.REACT_TOOLS.format(tools=listed), is_input=False),
        Field(TOOL_ARGS, dict[str, Any], "the tool's arguments", is_input=False),
    ], instructions)


def _extract_signature(signature: Signature) -> Signature:
    return Signature([
        *signature.input_fields.values(),
        Field(TRAJECTORY, str, "the tools called and what they returned", is_input=True),
        *signature.output_fields.values(),
    ], prompts.REACT_EXTRACT.format(task=signature.instructions.strip()))


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " ..."
