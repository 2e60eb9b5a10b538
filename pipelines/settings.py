"""Where sigflow keeps its files and which LM it uses by default, read from the environment at call time."""

from __future__ import annotations

import os
from pathlib import Path

LOCAL_MODEL = "local/qwen2.5-coder-0.5b"
# A worker process holds about 700 MB with the model loaded; its prefix snapshots come on top.
DEFAULT_PREFIX_CACHE_MB = 192


def cache_dir() -> Path:
    """Root of sigflow's caches: `$SIGFLOW_CACHE_DIR`, else `~/.cache/sigflow`."""
    return Path(os.environ.get("SIGFLOW_CACHE_DIR") or Path.home() / ".cache" / "sigflow")


def model_dir() -> Path:
    """Where the embedded model's GGUF is assembled: `$SIGFLOW_MODEL_DIR`, else `<cache_dir>/models`."""
    configured = os.environ.get("SIGFLOW_MODEL_DIR")
    return Path(configured) if configured else cache_dir() / "models"


def default_model() -> str:
    """The LM used when none is named: `$SIGFLOW_LM`, else the embedded local model."""
    return os.environ.get("SIGFLOW_LM") or LOCAL_MODEL


def local_workers() -> int:
    """Worker processes for the local model: `$SIGFLOW_LOCAL_WORKERS`, else the usable cores."""
    configured = os.environ.get("SIGFLOW_LOCAL_WORKERS")
    if configured:
        if not configured.strip().isdigit() or int(configured) < 1:
            raise ValueError(
                f"SIGFLOW_LOCAL_WORKERS must be a whole number of at least 1, got {configured!r}")
        return int(configured)
    return len(os.sched_getaffinity(0))


def prefix_cache_mb() -> int:
    """Megabytes of prompt-prefix snapshots each local worker keeps: `$SIGFLOW_PREFIX_CACHE_MB`, else 192;
    0 keeps only the prefix in the model's context."""
    configured = os.environ.get("SIGFLOW_PREFIX_CACHE_MB")
    if configured is None or configured == "":
        return DEFAULT_PREFIX_CACHE_MB
    if not configured.strip().isdigit():
        raise ValueError(f"SIGFLOW_PREFIX_CACHE_MB must be a whole number of megabytes, got {configured!r}")
    return int(configured)
