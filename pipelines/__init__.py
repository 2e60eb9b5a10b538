"""sigflow's declarative framework. Importing it loads no model, opens no database and starts no thread."""

from pipelines.lm import (
    LM,
    Budget,
    BudgetExceeded,
    Completion,
    LMError,
    ScriptedLM,
    Usage,
    track_usage,
)
from pipelines.parallel import parallel_map

__all__ = [
    "LM",
    "Budget",
    "BudgetExceeded",
    "Completion",
    "LMError",
    "ScriptedLM",
    "Usage",
    "parallel_map",
    "track_usage",
]
