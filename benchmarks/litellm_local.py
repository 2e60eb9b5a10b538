"""The embedded model as a litellm provider, for the DSPy reference only: DSPy calls litellm, while sigflow's
own requests reach the embedded model through its LM door directly."""

from __future__ import annotations

import asyncio

from pipelines.lm.litellm_transport import load_litellm
from pipelines.lm.local.pool import shared_pool
from pipelines.lm.local.transport import DEFAULT_TIMEOUT_SECONDS, PROVIDER


def register_local_provider() -> None:
    """Make `local/...` model strings answer from the worker-process pool when litellm is called."""
    litellm = load_litellm()

    class LocalProvider(litellm.CustomLLM):
        def completion(self, model, messages, api_base, custom_prompt_dict, model_response, print_verbose,
                       encoding, api_key, logging_obj, optional_params, *args, timeout=None, **kwargs):
            seconds = float(timeout) if isinstance(timeout, int | float) else DEFAULT_TIMEOUT_SECONDS
            return litellm.ModelResponse(**shared_pool().generate(messages, dict(optional_params), timeout=seconds))

        async def acompletion(self, *args, **kwargs):
            return await asyncio.to_thread(self.completion, *args, **kwargs)

    litellm.custom_provider_map = [
        *[entry for entry in litellm.custom_provider_map if entry["provider"] != PROVIDER],
        {"provider": PROVIDER, "custom_handler": LocalProvider()},
    ]
