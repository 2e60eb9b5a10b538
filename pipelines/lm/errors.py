"""Typed errors of the LM door; each says what failed and whether trying again can help."""

from __future__ import annotations


class LMError(Exception):
    """A failed LM call. `retryable` tells the door whether another attempt may succeed."""

    retryable = False

    def __init__(self, message: str, *, model: str | None = None):
        super().__init__(f"{model}: {message}" if model else message)
        self.model = model
        self.provider_message = message


class LMRateLimited(LMError):
    retryable = True


class LMTimeout(LMError):
    retryable = True


class LMConnectionError(LMError):
    retryable = True


class LMServerError(LMError):
    retryable = True


class LMAuthenticationError(LMError):
    pass


class LMBadRequest(LMError):
    pass


class LMContextWindowExceeded(LMBadRequest):
    pass


class LMNotFound(LMError):
    """The model or provider does not exist (a typo in the model string, usually)."""


class LMEmptyResponse(LMError):
    """The provider answered with no text at all."""

    retryable = True


class LocalModelUnavailable(LMError):
    """The embedded model cannot be assembled: a chunk package is missing or the file is corrupt."""


class BudgetExceeded(Exception):
    """The next LM call would cross a budget; raised before the call is made."""

    def __init__(self, message: str, *, limit: str, used: int, maximum: int):
        super().__init__(message)
        self.limit = limit
        self.used = used
        self.maximum = maximum
