"""Which passages a search may return: metadata filters, and the user groups of whoever is asking.

A filter maps metadata keys to the values allowed, one value or a list (`{"source": "handbook.md"}`).
`groups` is the caller's groups and matches differently: a passage without groups is visible to every caller,
one with groups only to a caller who shares one of them. `caller_groups(groups)` sets the groups for a block
of code, so every `Retrieve` inside it (an agent's search tool included) searches only what they may see."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pipelines.lm.scope import scoped
from pipelines.retrieval.passage import Passage

GROUPS = "groups"
Filter = Mapping[str, Any]
Normalized = tuple[tuple[str, tuple[str, ...]], ...]
"""A filter as sorted (key, allowed values) pairs: comparable, and a key for cached selections."""

_caller_groups: ContextVar[tuple[str, ...] | None] = ContextVar("sigflow_caller_groups", default=None)


def normalized(filter: Filter | None) -> Normalized:
    """The filter checked and in canonical form; a ValueError names a bad key or value."""
    if not filter:
        return ()
    if not isinstance(filter, Mapping):
        raise ValueError(f"a filter maps metadata keys to allowed values, got {type(filter).__name__}")
    pairs = []
    for key, value in filter.items():
        values = [value] if isinstance(value, str) else value
        if not isinstance(key, str) or not isinstance(values, Sequence) or \
                not all(isinstance(item, str) for item in values):
            raise ValueError(f"filter {key!r}: allowed values are a string or a list of strings, got {value!r}")
        pairs.append((key, tuple(sorted(set(values)))))
    return tuple(sorted(pairs))


def matches(passage: Passage, filter: Normalized) -> bool:
    for key, allowed in filter:
        if key == GROUPS:
            own = passage.metadata.get(GROUPS) or ()
            if own and not set(own) & set(allowed):
                return False
        elif str(passage.metadata.get(key)) not in allowed:
            return False
    return True


def with_caller_groups(filter: Filter | None) -> Normalized:
    """`filter`, narrowed to the groups of the caller when a block set them (`caller_groups`)."""
    groups = _caller_groups.get()
    base = dict(normalized(filter))
    if groups is not None:
        asked = base.get(GROUPS)
        base[GROUPS] = tuple(sorted(set(groups) & set(asked))) if asked is not None else groups
    return normalized(base)


@contextmanager
def caller_groups(groups: Sequence[str]) -> Iterator[tuple[str, ...]]:
    """Searches inside the block see only passages without groups or sharing one of `groups` (none: only
    the passages without groups)."""
    if isinstance(groups, str) or not all(isinstance(group, str) for group in groups):
        raise ValueError(f"groups are a list of group names, got {groups!r}")
    with scoped(_caller_groups, tuple(sorted(set(groups)))) as active:
        yield active


def groups_hash(passages: Sequence[Passage]) -> str:
    """A short hash of every passage's groups, in order: two stores of the same passages differ in who may
    see them when this differs."""
    text = json.dumps([sorted(passage.metadata.get(GROUPS) or []) for passage in passages])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
