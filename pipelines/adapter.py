"""Turns (signature, demos, inputs) into chat messages, and an LM's reply back into typed outputs.

Demos are user/assistant turns, not pasted inline (inline, the small model copied the last demo's label:
13 of 15 right fell to 3 of 15). Replies are `field: value` lines; the parser forgives missing or decorated
prefixes, code fences and case, and a failed parse gets one corrective retry."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
        numbered = "\n".join(f"[{index}] {item}" for index, item in enumerate(value, start=1))
        return f"{field.name}:\n{numbered}"
    return f"{field.name}: {fieldtypes.render(value)}"


def parse(signature: Signature, text: str) -> dict[str, Any]:
    """The typed output fields found in `text`; `ParseError` says which field failed and why."""
    raw_values = _split_fields(signature, text)
    outputs = {}
    for name, field in signature.output_fields.items():
        try:
            outputs[name] = fieldtypes.coerce(field.annotation, raw_values[name])
        except fieldtypes.CoercionError as error:
            raise ParseError(f"field {name!r}: {error}", raw=text) from None
    return outputs


def _split_fields(signature: Signature, text: str) -> dict[str, str]:
    """The raw text of each output field, from `name:` markers (decorated with markdown or not)."""
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
        return {names[0]: cleaned}
    ordered = sorted(found.items(), key=lambda item: item[1].start())
    values = {name: cleaned[marker.end():(ordered[index + 1][1].start() if index + 1 < len(ordered)
                                          else len(cleaned))].strip()
              for index, (name, marker) in enumerate(ordered)}
    missing = [name for name in names if name not in found]
    leading = cleaned[:ordered[0][1].start()].strip() if ordered else ""
    if len(missing) == 1 and leading and names.index(missing[0]) < names.index(ordered[0][0]):
        values[missing[0]] = leading  # e.g. reasoning written without its `reasoning:` prefix
    elif missing:
        raise ParseError(f"missing {', '.join(repr(name) for name in missing)} "
                         f"(expected lines starting with {', '.join(f'{n}:' for n in names)})", raw=text)
    return values


def predict(lm: LM, signature: Signature, demos: Sequence[Mapping[str, Any]], inputs: Mapping[str, Any],
            **config: Any) -> dict[str, Any]:
    """Ask `lm` and read its reply; on a parse failure ask once more, saying what was wrong. Both the
    retry and a final failure are counted in usage (`parse_retries`, `parse_failures`)."""
    messages = format_messages(signature, demos, inputs)
    first = lm.complete(messages, **config)
    try:
        return _traced_parse(signature, first.text)
    except ParseError as error:
        record(lm.model, Usage(parse_retries=1))
        correction = prompts.CORRECTION.format(problem=error, answer_template=answer_template(signature))
        retry = [*messages, {"role": "assistant", "content": first.text}, {"role": "user", "content": correction}]
        second = lm.complete(retry, **config)
    try:
        return _traced_parse(signature, second.text)
    except ParseError:
        record(lm.model, Usage(parse_failures=1))
        raise


def _traced_parse(signature: Signature, text: str) -> dict[str, Any]:
    """`parse`, as a PARSER span when a trace is active."""
    with tracing.span("parse", "PARSER", {"text": text}) as opened:
        outputs = parse(signature, text)
        if opened is not None:
            opened.set_outputs(to_jsonable(outputs))
        return outputs
