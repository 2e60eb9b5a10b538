"""Which code sends a request: an in-process transport registered by exact model string (the scripted LM),
the embedded model's pool for `local/...`, else litellm for every other provider."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pipelines.lm import litellm_transport
from pipelines.lm.local import transport as local_transport
from pipelines.lm.types import Completion

Transport = Callable[[str, list[dict[str, Any]], dict[str, Any]], Completion]

_registered: dict[str, Transport] = {}
_native_tools: set[str] = set()
_lock = threading.Lock()


def register_transport(model: str, transport: Transport, *, native_tools: bool = False) -> None:
    with _lock:
        _registered[model] = transport
        if native_tools:
            _native_tools.add(model)


def unregister_transport(model: str) -> None:
    with _lock:
        _registered.pop(model, None)
        _native_tools.discard(model)


def native_tools(model: str) -> bool:
    """Whether `model` takes tool definitions and answers with tool calls of its own: a registered transport
    says so, the embedded model does not (its agents write their calls as text), litellm knows the rest."""
    with _lock:
        if model in _registered:
            return model in _native_tools
    return False if local_transport.serves(model) else litellm_transport.native_tools(model)


def transport_for(model: str) -> Transport:
    with _lock:
        registered = _registered.get(model)
    if registered is not None:
        return registered
    if local_transport.serves(model):
        return local_transport.complete
    return litellm_transport.complete


def in_process_only(model: str) -> bool:
    """Whether `model` is answered by a transport registered in this process (another process cannot reach it)."""
    with _lock:
        return model in _registered
