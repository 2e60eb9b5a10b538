"""The embedded model as a litellm provider, for the DSPy reference only: DSPy calls litellm, while sigflow's
own requests reach the embedded model through its LM door directly. The provider hands each call to the
door's own local transport, so both meet the same model check, timeout and error mapping."""

from __future__ import annotations

import asyncio

from pipelines.lm.litellm_transport import load_litellm
from pipelines.lm.local import transport


def register_local_provider() -> None:
    """Make `local/...` model strings answer from the worker-process pool when litellm is called."""
    litellm = load_litellm()

    class LocalProvider(litellm.CustomLLM):
        def completion(self, model, messages, api_base, custom_prompt_dict, model_response, print_verbose,
                       encoding, api_key, logging_obj, optional_params, *args, timeout=None, **kwargs):
            # litellm passes the model name without its `local/` prefix.
            params = {**optional_params, **({"timeout": timeout} if timeout is not None else {})}
            answer = transport.complete(f"{transport.PROVIDER}/{model}", messages, params)
            return litellm.ModelResponse(
                model=answer.model, choices=[{"index": 0, "finish_reason": answer.finish_reason,
                                              "message": {"role": "assistant", "content": answer.text}}],
                usage={"prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
                       "total_tokens": answer.prompt_tokens + answer.completion_tokens})

        async def acompletion(self, *args, **kwargs):
            return await asyncio.to_thread(self.completion, *args, **kwargs)

    litellm.custom_provider_map = [
        *[entry for entry in litellm.custom_provider_map if entry["provider"] != transport.PROVIDER],
        {"provider": transport.PROVIDER, "custom_handler": LocalProvider()},
    ]
