"""Spending limits on LM calls and tokens, enforced before each call: `with Budget(max_calls=100): ...`."""

from __future__ import annotations

import threading
from contextvars import Token

from pipelines.lm.errors import BudgetExceeded
from pipelines.lm.scope import ScopedStack


class Budget:
    """A cap on uncached LM calls and tokens for the calls made inside its `with` scope.

    A call is refused before it is made when it could cross a cap: its tokens are reserved up front as an
    estimate of the prompt plus `max_tokens`, then settled at the real count. Reservations make concurrent
    calls from many threads unable to overshoot together.
    """

    def __init__(self, max_calls: int | None = None, max_tokens: int | None = None):
        for name, value in (("max_calls", max_calls), ("max_tokens", max_tokens)):
            if value is not None and value < 0:
                raise ValueError(f"Budget {name} must be a non-negative number, got {value}")
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.calls_used = 0
        self.tokens_used = 0
        self._tokens_reserved = 0
        self._lock = threading.Lock()
        self._tokens: list[Token] = []

    def reserve(self, estimated_tokens: int) -> None:
        """Count one call and hold `estimated_tokens`, or raise `BudgetExceeded` and hold nothing."""
        with self._lock:
            if self.max_calls is not None and self.calls_used + 1 > self.max_calls:
                raise BudgetExceeded(
                    f"LM call budget spent: {self.calls_used} of {self.max_calls} calls used",
                    limit="calls", used=self.calls_used, maximum=self.max_calls,
                )
            committed = self.tokens_used + self._tokens_reserved
            if self.max_tokens is not None and committed + estimated_tokens > self.max_tokens:
                raise BudgetExceeded(
                    f"LM token budget spent: {committed} of {self.max_tokens} tokens used or reserved, "
                    f"the next call may take up to {estimated_tokens}",
                    limit="tokens", used=committed, maximum=self.max_tokens,
                )
            self.calls_used += 1
            self._tokens_reserved += estimated_tokens

    def settle(self, estimated_tokens: int, actual_tokens: int) -> None:
        """Replace a call's reservation by the tokens it really used."""
        with self._lock:
            self._tokens_reserved -= estimated_tokens
            self.tokens_used += actual_tokens

    def release(self, estimated_tokens: int) -> None:
        """Undo a reservation for a call that was never sent."""
        with self._lock:
            self._tokens_reserved -= estimated_tokens
            self.calls_used -= 1

    @property
    def remaining_calls(self) -> int | None:
        return None if self.max_calls is None else max(0, self.max_calls - self.calls_used)

    @property
    def remaining_tokens(self) -> int | None:
        return None if self.max_tokens is None else max(0, self.max_tokens - self.tokens_used)

    def __enter__(self) -> Budget:
        self._tokens.append(_budgets.push(self))
        return self

    def __exit__(self, *exc_info) -> None:
        _budgets.pop(self._tokens.pop())

    def __repr__(self) -> str:
        return (f"Budget(calls {self.calls_used}/{self.max_calls}, "
                f"tokens {self.tokens_used}/{self.max_tokens})")


_budgets: ScopedStack[Budget] = ScopedStack("sigflow_budgets")


def active_budgets() -> tuple[Budget, ...]:
    """The budgets charged by a call made here, innermost last."""
    return tuple(_budgets.active())


def reserve_all(estimated_tokens: int) -> tuple[Budget, ...]:
    """Reserve one call on every active budget; if any refuses, the others are released first."""
    reserved: list[Budget] = []
    try:
        for budget in _budgets.active():
            budget.reserve(estimated_tokens)
            reserved.append(budget)
    except BudgetExceeded:
        for budget in reserved:
            budget.release(estimated_tokens)
        raise
    return tuple(reserved)
