"""Which request parameters are secrets, and which change what the LM answers."""

from __future__ import annotations

from typing import Any

_SECRET_NAMES = frozenset({"api_key", "api_token", "token", "password", "secret", "azure_ad_token"})
_SECRET_SUFFIXES = ("_key", "_secret", "_password", "_session_token", "_access_token")

# Parameters that change how a request is sent but never what comes back.
TRANSPORT_ONLY = frozenset({"timeout", "request_timeout", "num_retries", "metadata", "max_retries"})


def is_secret(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_NAMES or lowered.endswith(_SECRET_SUFFIXES)


def public_params(params: dict[str, Any]) -> dict[str, Any]:
    """`params` without anything that could be a credential: safe to log, trace, cache or save."""
    return {name: value for name, value in params.items() if not is_secret(name)}


def output_params(params: dict[str, Any]) -> dict[str, Any]:
    """The public parameters that can change the LM's output (the ones a cache key must cover)."""
    return {name: value for name, value in public_params(params).items() if name not in TRANSPORT_ONLY}
