"""What sigflow knows about each supported field type: its name, how it is shown to the LM, how it is read
back from LM text (leniently), and how it is stored as JSON.

Supported: str, int, float, bool, list[T], dict[str, T], Literal[...], Enum subclasses and pydantic models.
"""

from __future__ import annotations

import enum
import json
import re
import typing
from typing import Any, Literal, get_args, get_origin

import json_repair
import pydantic

SUPPORTED = "str, int, float, bool, list[...], dict[str, ...], Literal[...], an Enum, or a pydantic model"
_SCALARS = (str, int, float, bool)
_TRUE = {"yes", "true", "y", "1", "correct"}
_FALSE = {"no", "false", "n", "0", "incorrect"}
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE]-?\d+)?|-?\.\d+")


class CoercionError(ValueError):
    """A value that cannot be read as its field's type; the message says what was expected and found."""


def is_supported(annotation: Any) -> bool:
    if annotation in _SCALARS or _is_enum(annotation) or _is_model(annotation):
        return True
    if get_origin(annotation) is Literal:
        return all(isinstance(option, str | int | bool) for option in get_args(annotation))
    if get_origin(annotation) is list:
        (item,) = get_args(annotation) or (str,)
        return is_supported(item)
    if get_origin(annotation) is dict:
        key, value = get_args(annotation) or (str, Any)
        return key is str and (value is Any or is_supported(value))
    return False


def type_name(annotation: Any) -> str:
    """A stable, readable name: `list[str]`, `Literal['a', 'b']`, `Sentiment`."""
    if get_origin(annotation) is Literal:
        return f"Literal[{', '.join(repr(option) for option in get_args(annotation))}]"
    if get_origin(annotation) is list:
        return f"list[{type_name((get_args(annotation) or (str,))[0])}]"
    if get_origin(annotation) is dict:
        key, value = get_args(annotation) or (str, Any)
        return f"dict[{type_name(key)}, {type_name(value)}]"
    if annotation is Any:
        return "Any"
    return getattr(annotation, "__name__", repr(annotation))


def choices(annotation: Any) -> list[str] | None:
    """The allowed answers of a Literal or Enum field, as the LM should write them."""
    if get_origin(annotation) is Literal:
        return [str(option) for option in get_args(annotation)]
    if _is_enum(annotation):
        return [str(member.value) for member in annotation]
    return None


def format_hint(annotation: Any, description: str) -> str:
    """What to write for a field, as shown in the answer template."""
    options = choices(annotation)
    if options is not None:
        return f"one of: {', '.join(options)}"
    if _is_model(annotation):
        return f"a JSON object with {_model_keys(annotation)}"
    if get_origin(annotation) is list:
        return f"a JSON list of {type_name((get_args(annotation) or (str,))[0])} values"
    if get_origin(annotation) is dict:
        return "a JSON object"
    hints = {int: "an integer", float: "a number", bool: "yes or no"}
    return hints.get(annotation) or description or "text"


def render(value: Any) -> str:
    """A value as it appears in a prompt (inputs, and outputs in demos)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(to_jsonable(value), ensure_ascii=False)


def to_jsonable(value: Any) -> Any:
    """A value as plain JSON data, for demos in program state and stored predictions."""
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    return value


def from_jsonable(annotation: Any, value: Any) -> Any:
    """The typed value of JSON data that `to_jsonable` wrote."""
    if _is_model(annotation):
        return annotation.model_validate(value)
    if _is_enum(annotation):
        return annotation(value)
    if get_origin(annotation) is list and isinstance(value, list):
        item = (get_args(annotation) or (str,))[0]
        return [from_jsonable(item, element) for element in value]
    if get_origin(annotation) is dict and isinstance(value, dict):
        return {key: from_jsonable(_dict_value(annotation), item) for key, item in value.items()}
    return value


def coerce(annotation: Any, text: str) -> Any:
    """Read `text` (an LM's answer for one field) as `annotation`, forgiving case, quotes, markdown and
    stray words where the meaning stays unambiguous."""
    if annotation is str:
        return text.strip()
    if get_origin(annotation) is Literal:
        options = get_args(annotation)
        return options[_match_choice([str(option) for option in options], text)]
    if _is_enum(annotation):
        members = list(annotation)
        return members[_match_choice([str(member.value) for member in members], text,
                                     aliases=[member.name for member in members])]
    if annotation is bool:
        return _coerce_bool(text)
    if annotation in (int, float):
        return _coerce_number(annotation, text)
    if get_origin(annotation) is list:
        return _coerce_list(annotation, text)
    if get_origin(annotation) is dict:
        return _coerce_dict(annotation, text)
    if _is_model(annotation):
        return _coerce_model(annotation, text)
    raise CoercionError(f"type {type_name(annotation)} is not supported; use {SUPPORTED}")


def _match_choice(options: list[str], text: str, aliases: list[str] | None = None) -> int:
    """Index of the option `text` names: exactly, by a unique prefix, or as the only option it mentions."""
    wanted = _bare(text)
    if not wanted:
        raise CoercionError(f"expected one of {', '.join(options)}, got nothing")
    names = [[_bare(option)] + ([_bare(aliases[index])] if aliases else []) for index, option in
             enumerate(options)]
    for test in (lambda name: name == wanted,
                 lambda name: name.startswith(wanted),
                 lambda name: re.search(rf"\b{re.escape(name)}\b", wanted) is not None):
        matches = {index for index, candidates in enumerate(names) if any(map(test, candidates))}
        if len(matches) == 1:
            return matches.pop()
        if len(matches) > 1:
            break  # ambiguous: guessing would hide a wrong answer
    raise CoercionError(f"expected one of {', '.join(options)}, got {text.strip()[:80]!r}")


def _bare(text: str) -> str:
    """Lower case, without markdown, quotes, brackets or trailing punctuation."""
    return re.sub(r"\s+", " ", re.sub(r"[*_`\"'\[\]<>()]", "", text)).strip().strip(".,;:!").lower()


def _coerce_bool(text: str) -> bool:
    words = re.findall(r"\w+", text.lower())
    if words and words[0] in _TRUE:
        return True
    if words and words[0] in _FALSE:
        return False
    raise CoercionError(f"expected yes or no, got {text.strip()[:80]!r}")


def _coerce_number(annotation: type, text: str) -> int | float:
    found = _NUMBER.search(text)
    if found is None:
        raise CoercionError(f"expected {type_name(annotation)}, got {text.strip()[:80]!r}")
    number = float(found.group().replace(",", ""))
    if annotation is int:
        if not number.is_integer():
            raise CoercionError(f"expected an integer, got {found.group()!r}")
        return int(number)
    return number


def _coerce_list(annotation: Any, text: str) -> list[Any]:
    item = (get_args(annotation) or (str,))[0]
    stripped = strip_fences(text)
    parsed = json_repair.loads(stripped) if stripped.lstrip().startswith("[") else None
    if not isinstance(parsed, list):
        parsed = [re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line) for line in stripped.splitlines()]
        parsed = [line for line in parsed if line.strip()]
    if item is str:
        return [str(element).strip() for element in parsed]
    return [from_jsonable(item, element) if not isinstance(element, str) else coerce(item, element)
            for element in parsed]


def _coerce_dict(annotation: Any, text: str) -> dict[str, Any]:
    parsed = json_repair.loads(strip_fences(text)) if text.strip() else None
    if not isinstance(parsed, dict):
        raise CoercionError(f"expected a JSON object, got {text.strip()[:80]!r}")
    value = _dict_value(annotation)
    return {str(key): _typed_item(value, item) for key, item in parsed.items()}


def _typed_item(annotation: Any, item: Any) -> Any:
    """One JSON value of a dict as `annotation`, read like an LM's answer for a field of that type."""
    if annotation is Any:
        return item
    return coerce(annotation, item if isinstance(item, str) else render(item))


def _dict_value(annotation: Any) -> Any:
    return (get_args(annotation) or (str, Any))[1]


def _coerce_model(annotation: type[pydantic.BaseModel], text: str) -> pydantic.BaseModel:
    parsed = json_repair.loads(strip_fences(text))
    if not isinstance(parsed, dict):
        raise CoercionError(f"expected a JSON object with {_model_keys(annotation)}, got {text.strip()[:80]!r}")
    try:
        return annotation.model_validate(parsed)
    except pydantic.ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise CoercionError(f"the JSON object does not fit {annotation.__name__}: {problems}") from error


def strip_fences(text: str) -> str:
    """`text` without markdown code-fence lines (```json and ```), which small models add around answers."""
    return re.sub(r"^\s*```[\w-]*\s*$", "", text, flags=re.MULTILINE).strip()


def _model_keys(model: type[pydantic.BaseModel]) -> str:
    hints = typing.get_type_hints(model)
    return "keys " + ", ".join(f"{name} ({type_name(hints.get(name, Any))})" for name in model.model_fields)


def _is_enum(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, enum.Enum)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel)

