"""Turns (signature, demos, inputs) into chat messages, and an LM's reply back into typed outputs.

Demos are user/assistant turns, not pasted inline (inline, the small model copied the last demo's label:
13 of 15 right fell to 3 of 15). Replies are `field: value` lines; the parser forgives missing or decorated
prefixes, code fences and case. A reply read only in part gets one retry that asks for the rest: the fields
from the first unreadable one on, so a reply cut off by its token limit keeps what it wrote."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pipelines import fieldtypes, prompts
from pipelines.fieldtypes import to_jsonable
from pipelines.lm import tracing
from pipelines.lm.client import LM
from pipelines.lm.usage import Usage, record
from pipelines.signatures import Field, Signature

Message = dict[str, str]
_COLON = "[:\uff1a]"  # an ASCII or a full-width colon, as multilingual models sometimes write


class ParseError(ValueError):
    """An LM reply that could not be read, even after the corrective retry; `raw` is the reply's text."""

    def __init__(self, message: str, *, raw: str):
        super().__init__(message)
        self.raw = raw


def format_messages(signature: Signature, demos: Sequence[Mapping[str, Any]],
                    inputs: Mapping[str, Any]) -> list[Message]:
    messages = [{"role": "system", "content": system_message(signature)}]
    for demo in demos:
        messages.append({"role": "user", "content": _render_fields(signature.input_fields, demo)})
        messages.append({"role": "assistant", "content": _render_fields(signature.output_fields, demo)})
    messages.append({"role": "user", "content": _render_fields(signature.input_fields, inputs)})
    return messages


def system_message(signature: Signature) -> str:
    return prompts.SYSTEM.format(
        instructions=signature.instructions.strip(),
        fields_block=prompts.FIELDS_BLOCK.format(input_lines=_field_lines(signature.input_fields),
                                                 output_lines=_field_lines(signature.output_fields)),
        answer_template=answer_template(signature),
    )


def _field_lines(fields: Mapping[str, Field]) -> str:
    return "\n".join(f"- {field.name}" + (f": {field.desc}" if field.desc else "") for field in fields.values())


def answer_template(signature: Signature) -> str:
    return "\n".join(f"{field.name}: <{fieldtypes.format_hint(field.annotation, field.desc)}>"
                     for field in signature.output_fields.values())


def _render_fields(fields: Mapping[str, Field], values: Mapping[str, Any]) -> str:
    return "\n".join(_render_field(field, values[name]) for name, field in fields.items() if name in values)


def _render_field(field: Field, value: Any) -> str:
    if get_origin(field.annotation) is list and get_args(field.annotation) in ((str,), ()) and field.is_input:
        if not value:
            return f"{field.name}: (none)"
        numbered = "\n".join(f"[{index}] {item}" for index, item in enumerate(value, start=1))
        return f"{field.name}:\n{numbered}"
    return f"{field.name}: {fieldtypes.render(value)}"


def parse(signature: Signature, text: str) -> dict[str, Any]:
    """The typed output fields found in `text`; `ParseError` says which field failed and why."""
    reading = read(signature, text)
    if reading.problems:
        raise ParseError(next(iter(reading.problems.values())), raw=text)
    return reading.outputs


@dataclass(frozen=True)
class Reading:
    """What could be read of a reply: the typed output fields, and why each of the others could not be."""

    outputs: dict[str, Any]
    problems: dict[str, str]

    def read_first(self, signature: Signature) -> list[str]:
        """The output fields read, in order, up to the first that was not: what a retry need not ask again."""
        names = list(signature.output_fields)
        unread = [index for index, name in enumerate(names) if name in self.problems]
        return names[:unread[0]] if unread else names


def read(signature: Signature, text: str) -> Reading:
    raw_values, missing = _split_fields(signature, text)
    outputs, problems = {}, {}
    problems.update({name: f"missing {name!r} (expected a line starting with {name}:)" for name in missing})
    for name, field in signature.output_fields.items():
        if name in raw_values:
            try:
                outputs[name] = fieldtypes.coerce(field.annotation, raw_values[name])
            except fieldtypes.CoercionError as error:
                problems[name] = f"field {name!r}: {error}"
    ordered = {name: problems[name] for name in signature.output_fields if name in problems}
    return Reading(outputs, ordered)


def _split_fields(signature: Signature, text: str) -> tuple[dict[str, str], list[str]]:
    """The raw text of each output field found, from `name:` markers (decorated with markdown or not), and
    the names of those not found."""
    cleaned = fieldtypes.strip_fences(text)
    names = list(signature.output_fields)
    found = {}
    for name in names:
        pattern = re.escape(name).replace("_", "[ _]")
        marker = re.search(rf"^[ \t>#*_-]*{pattern}[ \t*_]*{_COLON}[ \t]*(?:\*\*|__)?[ \t]*", cleaned,
                           re.IGNORECASE | re.MULTILINE)
        if marker:
            found[name] = marker
    if not found and len(names) == 1:
        return {names[0]: cleaned}, []
    ordered = sorted(found.items(), key=lambda item: item[1].start())
    values = {name: cleaned[marker.end():(ordered[index + 1][1].start() if index + 1 < len(ordered)
                                          else len(cleaned))].strip()
              for index, (name, marker) in enumerate(ordered)}
    missing = [name for name in names if name not in found]
    leading = cleaned[:ordered[0][1].start()].strip() if ordered else ""
    if len(missing) == 1 and leading and names.index(missing[0]) < names.index(ordered[0][0]):
        values[missing[0]] = leading  # e.g. reasoning written without its `reasoning:` prefix
        missing = []
    return values, missing


def predict(lm: LM, signature: Signature, demos: Sequence[Mapping[str, Any]], inputs: Mapping[str, Any],
            **config: Any) -> dict[str, Any]:
    """Ask `lm` and read its reply; when part of it cannot be read, ask once more for that part only (the
    fields from the first unreadable one on), saying what was wrong, so a reply cut off by its token limit
    keeps its reasoning and gains its answer. Both the retry and a final failure are counted in usage
    (`parse_retries`, `parse_failures`)."""
    messages = format_messages(signature, demos, inputs)
    first = lm.complete(messages, **config)
    reading = _traced_read(signature, first.text)
    if not reading.problems:
        return reading.outputs
    record(lm.model, Usage(parse_retries=1))
    kept = reading.read_first(signature)
    rest = signature.delete(*kept)
    correction = prompts.CORRECTION.format(problem=next(iter(reading.problems.values())),
                                           answer_template=answer_template(rest))
    retry = [*messages, {"role": "assistant", "content": first.text}, {"role": "user", "content": correction}]
    second = lm.complete(retry, **config)
    completed = _traced_read(rest, second.text)
    if completed.problems:
        record(lm.model, Usage(parse_failures=1))
        raise ParseError(next(iter(completed.problems.values())), raw=second.text)
    merged = {**{name: reading.outputs[name] for name in kept}, **completed.outputs}
    return {name: merged[name] for name in signature.output_fields}


def _traced_read(signature: Signature, text: str) -> Reading:
    """`read`, as a PARSER span when a trace is active."""
    with tracing.span("parse", "PARSER", {"text": text}) as opened:
        reading = read(signature, text)
        if opened is not None:
            opened.set_outputs(to_jsonable({"outputs": reading.outputs, "problems": reading.problems}))
        return reading
