"""`ReAct`: an agent that reasons and calls tools in turn until it can answer, then answers.

Each step is one `Predict` call (a thought, a tool's name, its arguments as JSON) through sigflow's own
adapter, so it works with any model that can follow a reply format, the embedded 0.5B one included, and
optimizers give the step demos and instructions like any other. A last chain-of-thought step writes the
signature's outputs from the whole trajectory."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pipelines import prompts
from pipelines.adapter import ParseError
from pipelines.fieldtypes import render
from pipelines.modules.chain_of_thought import ChainOfThought
from pipelines.modules.module import Module
from pipelines.modules.predict import Predict
from pipelines.primitives import Prediction
from pipelines.signatures import Field, Signature, SignatureError, ensure_signature
from pipelines.tools import FINISH, Tool, ToolError, as_tool

TRAJECTORY = "trajectory"
THOUGHT, TOOL_NAME, TOOL_ARGS = "next_thought", "next_tool_name", "next_tool_args"
MAX_OBSERVATION_CHARS = 1200
"""How much of one observation the later steps read: a long one would crowd the small model's context."""


@dataclass(frozen=True)
class Step:
    """One step of a trajectory: what the agent thought, the tool it called and what came back."""

    thought: str
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    observation: str = ""
    failed: bool = False


class ReAct(Module):
    """Fills `signature`'s outputs using `tools` (functions or `Tool`s): at most `max_steps` tool calls,
    then the answer. The prediction also holds the `trajectory`: one dict per step (thought, tool,
    arguments, observation, failed), the last naming `finish` when the agent chose to stop."""

    def __init__(self, signature: str | Signature, tools: list[Tool | Any], *, max_steps: int = 5,
                 max_observation_chars: int = MAX_OBSERVATION_CHARS):
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        self.signature = ensure_signature(signature)
        if any(field.name == TRAJECTORY for field in self.signature.fields):
            raise SignatureError(f"a ReAct signature cannot have its own {TRAJECTORY!r} field")
        self.tools = _by_name([as_tool(tool) for tool in tools])
        self.max_steps = max_steps
        self.max_observation_chars = max_observation_chars
        self.step = Predict(_step_signature(self.signature, self.tools))
        self.extract = ChainOfThought(_extract_signature(self.signature))

    def forward(self, **inputs: Any) -> Prediction:
        steps: list[Step] = []
        while len(steps) < self.max_steps:
            taken = self._take_step(inputs, steps)
            steps.append(taken)
            if taken.tool == FINISH or (taken.failed and not taken.tool):
                break
        answer = self.extract(**inputs, **{TRAJECTORY: self.render_trajectory(steps)})
        outputs = {name: answer[name] for name in self.signature.output_fields}
        return Prediction({**outputs, TRAJECTORY: [asdict(step) for step in steps]})

    def _take_step(self, inputs: dict[str, Any], steps: list[Step]) -> Step:
        try:
            chosen = self.step(**inputs, **{TRAJECTORY: self.render_trajectory(steps)})
        except ParseError as error:  # the agent could not say what to do: answer from what it has
            return Step(thought="", tool="", observation=f"error: the step's reply could not be read: {error}",
                        failed=True)
        name, arguments = chosen[TOOL_NAME], chosen[TOOL_ARGS]
        if name == FINISH:
            return Step(chosen[THOUGHT], FINISH, arguments)
        observation = self.tools[name].run(arguments)
        return Step(chosen[THOUGHT], name, arguments, observation.text, observation.failed)

    def render_trajectory(self, steps: list[Step]) -> str:
        """The trajectory as the steps read it: numbered thoughts, calls and (shortened) observations."""
        if not steps:
            return prompts.TRAJECTORY_EMPTY
        lines = []
        for number, step in enumerate(steps, start=1):
            if step.thought:
                lines.append(f"thought {number}: {step.thought}")
            if step.tool:
                lines.append(f"call {number}: {step.tool}({render(step.arguments)})")
            if step.observation:
                lines.append(f"observation {number}: {_shortened(step.observation, self.max_observation_chars)}")
        return "\n".join(lines)


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
