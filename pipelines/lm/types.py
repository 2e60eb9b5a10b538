"""The values that cross the LM door: what is asked, and what comes back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class LMRequest:
    """One request to an LM, with the door's policy for it (cache, retries)."""

    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    use_cache: bool = True
    rollout_id: str | None = None
    num_retries: int = 3
    backoff_seconds: float = 1.0


@dataclass(frozen=True)
class Completion:
    """An LM's answer. Token counts and latency are those of the generation, also when served from the cache."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    finish_reason: str | None = None
    latency_seconds: float = 0.0
    cached: bool = False
    attempts: int = 1
    tool_calls: tuple[dict[str, str], ...] = ()
    """Native tool calls, for a request that offered `tools`: each {"name", "arguments"} (a JSON text)."""

    def to_cache(self) -> dict[str, Any]:
        stored = asdict(self)
        stored["tool_calls"] = list(stored["tool_calls"])
        for transient in ("cached", "attempts"):
            stored.pop(transient)
        return stored

    @classmethod
    def from_cache(cls, stored: dict[str, Any]) -> Completion:
        calls = tuple(stored.pop("tool_calls", ()))
        return cls(**stored, tool_calls=calls, cached=True, attempts=0)
