"""Values active for a block of code, per context: one at a time (`scoped`), or a stack of them, so nested
`with` scopes all see the calls made inside them (`ScopedStack`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Generic, TypeVar

T = TypeVar("T")


class ScopedStack(Generic[T]):
    """Values entered with `push` stay active until their `pop`, in this context and copies of it."""

    def __init__(self, name: str):
        self._var: ContextVar[tuple[T, ...]] = ContextVar(name, default=())

    def active(self) -> tuple[T, ...]:
        return self._var.get()

    def push(self, value: T) -> Token:
        return self._var.set((*self._var.get(), value))

    def pop(self, token: Token) -> None:
        self._var.reset(token)


@contextmanager
def scoped(variable: ContextVar[T], value: T) -> Iterator[T]:
    """`variable` holds `value` inside the block, and what it held before after it."""
    token = variable.set(value)
    try:
        yield value
    finally:
        variable.reset(token)
