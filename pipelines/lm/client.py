"""`LM`: the settings of one language model, and the calls made with them through the door."""

from __future__ import annotations

from typing import Any

from pipelines import settings
from pipelines.lm import door
from pipelines.lm.params import public_params
from pipelines.lm.sampling import current_sampling
from pipelines.lm.types import Completion, LMRequest


class LM:
    """A language model by litellm model string (`openai/gpt-4o-mini`, `ollama/llama3`, `local/...`).

    `model` defaults to `$SIGFLOW_LM`, else the embedded local model. Extra keyword arguments (`api_base`,
    `api_key`, `stop`, `seed`, ...) go to the provider with every request; secrets among them are never
    cached, logged, traced or saved.
    """

    def __init__(self, model: str | None = None, *, temperature: float = 0.0, max_tokens: int = 1000,
                 cache: bool = True, num_retries: int = 3, backoff_seconds: float = 1.0, **params: Any):
        if num_retries < 0:
            raise ValueError(f"num_retries must be 0 or more, got {num_retries}")
        self.model = model or settings.default_model()
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.cache = cache
        self.num_retries = num_retries
        self.backoff_seconds = backoff_seconds
        self.params = params

    def complete(self, messages: list[dict[str, Any]], *, cache: bool | None = None,
                 rollout_id: str | None = None, **overrides: Any) -> Completion:
        """Send chat `messages`. `cache=False` skips the cache; a `rollout_id` draws (and caches) a sample
        of its own instead of the shared entry. `overrides` replace this LM's parameters for one call; inside
        `sampled(...)` its temperature replaces both and its rollout id comes first."""
        params = {"temperature": self.temperature, "max_tokens": self.max_tokens, **self.params, **overrides}
        sample = current_sampling()
        if sample is not None:
            params["temperature"] = sample.temperature
            rollout_id = sample.rollout_id if rollout_id is None else f"{sample.rollout_id}/{rollout_id}"
        return door.send(LMRequest(
            model=self.model,
            messages=messages,
            params=params,
            use_cache=self.cache if cache is None else cache,
            rollout_id=rollout_id,
            num_retries=self.num_retries,
            backoff_seconds=self.backoff_seconds,
        ))

    def __call__(self, prompt: str | None = None, *, messages: list[dict[str, Any]] | None = None,
                 **overrides: Any) -> list[str]:
        """DSPy-style shorthand: a prompt or messages in, a list with the completion's text out."""
        if (prompt is None) == (messages is None):
            raise ValueError("pass either a prompt or messages, not both and not neither")
        chosen = messages if messages is not None else [{"role": "user", "content": prompt}]
        return [self.complete(chosen, **overrides).text]

    def copy(self, **changes: Any) -> LM:
        """A new LM with some settings changed."""
        current = {"model": self.model, **self._policy(), **self.params}
        return LM(**{**current, **changes})

    def settings(self) -> dict[str, Any]:
        """What to save with a program: the model and its parameters, without secrets."""
        return {"model": self.model, **self._policy(), **public_params(self.params)}

    def _policy(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "cache": self.cache,
                "num_retries": self.num_retries, "backoff_seconds": self.backoff_seconds}

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.settings().items())
        return f"LM({shown})"
