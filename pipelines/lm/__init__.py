"""The LM layer: every LM call passes `door.send`, which applies cache, budget, retries, usage and tracing."""

from pipelines.lm.budget import Budget
from pipelines.lm.client import LM
from pipelines.lm.errors import (
    BudgetExceeded,
    LMAuthenticationError,
    LMBadRequest,
    LMConnectionError,
    LMContextWindowExceeded,
    LMEmptyResponse,
    LMError,
    LMNotFound,
    LMRateLimited,
    LMServerError,
    LMTimeout,
    LocalModelUnavailable,
)
from pipelines.lm.scripted import ScriptedLM
from pipelines.lm.types import Completion
from pipelines.lm.usage import Usage, UsageTracker, track_usage

__all__ = [
    "LM",
    "Budget",
    "BudgetExceeded",
    "Completion",
    "LMAuthenticationError",
    "LMBadRequest",
    "LMConnectionError",
    "LMContextWindowExceeded",
    "LMEmptyResponse",
    "LMError",
    "LMNotFound",
    "LMRateLimited",
    "LMServerError",
    "LMTimeout",
    "LocalModelUnavailable",
    "ScriptedLM",
    "Usage",
    "UsageTracker",
    "track_usage",
]
