"""`Tool`: a typed Python function an agent may call. Its name, docstring and annotated parameters become
the description and argument schema shown to the LM; the LM's arguments are checked and coerced before the
call; whatever goes wrong (bad arguments, an exception, a timeout) comes back as an observation the agent
can read, so one failing call never ends the run."""

from __future__ import annotations

import contextvars
import copy
import inspect
import json
import threading
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic

from pipelines.fieldtypes import render, to_jsonable
from pipelines.lm import tracing
from pipelines.lm.errors import BudgetExceeded

TIMEOUT_SECONDS = 30.0
FINISH = "finish"
"""The name an agent gives instead of a tool when it has what it needs to answer."""


class ToolError(ValueError):
    """A function that cannot be a tool: its message names the parameter or the name that is wrong."""


class _TimedOut(Exception):
    """The tool's thread did not finish in time (the tool's own TimeoutError is an ordinary failure)."""


class ToolArgumentError(ValueError):
    """Arguments that do not fit a tool's parameters; the message is the observation an agent reads."""


@dataclass(frozen=True)
class Observation:
    """What one tool call gave the agent: the text it reads next, and whether the call failed."""

    text: str
    failed: bool = False


class Tool:
    """`func` as a tool; `name` and `desc` default to the function's name and its docstring's first
    paragraph. A call taking longer than `timeout_seconds` (None: no limit) is reported as timed out and
    left to finish on its own thread: Python cannot stop it, and LM calls it still makes are charged to the
    budgets of the run that started it. A tool that spends the last of an active
    budget raises `BudgetExceeded` like any LM step."""

    def __init__(self, func: Callable[..., Any], *, name: str | None = None, desc: str | None = None,
                 timeout_seconds: float | None = TIMEOUT_SECONDS):
        if not callable(func):
            raise ToolError(f"a tool wraps a function, got {type(func).__name__}")
        self.func = func
        self.name = name or getattr(func, "__name__", "")
        if not self.name.isidentifier() or self.name == FINISH:
            raise ToolError(f"tool name {self.name!r} must be an identifier other than {FINISH!r}")
        self.desc = desc if desc is not None else _first_paragraph(inspect.getdoc(func) or "")
        self.timeout_seconds = timeout_seconds
        self.arguments = _arguments_model(func, self.name)

    @property
    def parameters(self) -> dict[str, Any]:
        """The arguments' JSON schema (the `parameters` of an OpenAI-style function definition)."""
        schema = self.arguments.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return schema

    def schema(self) -> dict[str, Any]:
        """The tool as a provider's native function definition."""
        return {"type": "function", "function": {"name": self.name, "description": self.desc,
                                                 "parameters": self.parameters}}

    def describe(self) -> str:
        """One line for a prompt: `search, arguments {"query": string, "k": integer (default 3)}: what it does`."""
        return f"{self.name}, arguments {self.arguments_form()}" + (f": {self.desc}" if self.desc else "")

    def arguments_form(self) -> str:
        """The JSON object the tool takes: `{"query": string, "k": integer (default 3)}`."""
        shown = []
        for name, spec in self.parameters.get("properties", {}).items():
            default = f" (default {json.dumps(spec['default'])})" if "default" in spec else ""
            shown.append(f"{json.dumps(name)}: {_schema_type(spec)}{default}")
        return "{" + ", ".join(shown) + "}"

    def __call__(self, **arguments: Any) -> Any:
        """Call the function with checked and coerced arguments; errors are raised, not observed."""
        return self.func(**self._checked(arguments))

    def run(self, arguments: dict[str, Any]) -> Observation:
        """Call the tool for an agent: every failure becomes a failed observation, and with a trace
        active the call is a TOOL span."""
        with tracing.span(self.name, "TOOL", to_jsonable(arguments)) as opened:
            observation = self._observe(arguments)
            if opened is not None:
                opened.set_outputs(observation.text)
                opened.set_attributes({"failed": observation.failed})
            return observation

    def _observe(self, arguments: dict[str, Any]) -> Observation:
        try:
            checked = self._checked(arguments)
        except ToolArgumentError as error:
            return Observation(str(error), failed=True)
        try:
            result = self._call_within_timeout(checked)
        except _TimedOut:
            return Observation(f"error: {self.name} did not answer within {self.timeout_seconds:g} s", failed=True)
        except BudgetExceeded:
            raise  # a spent budget ends the whole run, not just this call
        except Exception as error:  # the agent reads what went wrong and may try something else
            return Observation(f"error: {self.name} raised {type(error).__name__}: {error}", failed=True)
        return Observation(result if isinstance(result, str) else render(result))

    def _checked(self, arguments: dict[str, Any]) -> dict[str, Any]:
        try:
            validated = self.arguments.model_validate(arguments)
        except pydantic.ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, item['loc'])) or 'arguments'}: {item['msg']}"
                                 for item in error.errors())
            raise ToolArgumentError(f"error: bad arguments for {self.name}: {problems}; its arguments are "
                                    f"{self.arguments_form()}") from None
        return {name: getattr(validated, name) for name in type(validated).model_fields}

    def _call_within_timeout(self, arguments: dict[str, Any]) -> Any:
        if self.timeout_seconds is None:
            return self.func(**arguments)
        outcome: dict[str, Any] = {}
        context = contextvars.copy_context()  # usage, budgets and the trace reach a tool that calls an LM

        def call() -> None:
            try:
                outcome["result"] = context.run(self.func, **arguments)
            except BaseException as error:  # handed back to the caller's thread
                outcome["error"] = error

        worker = threading.Thread(target=call, name=f"tool-{self.name}", daemon=True)
        worker.start()
        worker.join(self.timeout_seconds)
        if worker.is_alive():
            raise _TimedOut(self.name)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    def __deepcopy__(self, memo: dict[int, Any]) -> Tool:
        """A program's copy calls its own methods as tools; any other function (and what it holds, a database
        or a client) is shared, not copied."""
        copied = copy.copy(self)
        owner = getattr(self.func, "__self__", None)
        if owner is not None and id(owner) in memo:
            copied.func = types.MethodType(self.func.__func__, memo[id(owner)])
        return copied

    def __repr__(self) -> str:
        return f"Tool({self.describe()!r})"


def as_tool(value: Tool | Callable[..., Any]) -> Tool:
    return value if isinstance(value, Tool) else Tool(value)


def _arguments_model(func: Callable[..., Any], name: str) -> type[pydantic.BaseModel]:
    """A pydantic model of the function's parameters: it checks and coerces what the LM wrote."""
    try:
        parameters = inspect.signature(func).parameters.values()
        hints = _type_hints(func)
    except (TypeError, ValueError, NameError) as error:
        raise ToolError(f"tool {name!r}: cannot read the function's parameters: {error}") from error
    fields = {}
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD, parameter.POSITIONAL_ONLY):
            raise ToolError(f"tool {name!r}: parameter {parameter.name!r} must be an ordinary named parameter")
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (hints.get(parameter.name, Any), default)
    try:
        config = pydantic.ConfigDict(extra="forbid", coerce_numbers_to_str=True)  # small models write 2004 for "2004"
        return pydantic.create_model(f"{name}_arguments", __config__=config, **fields)
    except (TypeError, pydantic.PydanticSchemaGenerationError) as error:
        raise ToolError(f"tool {name!r}: a parameter's type cannot be checked: {error}") from error


def _type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    target = func if inspect.isfunction(func) or inspect.ismethod(func) else type(func).__call__
    return typing.get_type_hints(target)


def _schema_type(spec: dict[str, Any]) -> str:
    if "enum" in spec:
        return " | ".join(json.dumps(option) for option in spec["enum"])
    if "anyOf" in spec:
        return " | ".join(_schema_type(option) for option in spec["anyOf"])
    if spec.get("type") == "array":
        return f"list of {_schema_type(spec.get('items', {}))}"
    return spec.get("type", "any")


def _first_paragraph(doc: str) -> str:
    return " ".join(doc.split("\n\n", 1)[0].split())
