"""The header every file sigflow saves carries (`format` and `version`), and the check made on loading."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FileFormat:
    """One saved format: its name, the newest version this sigflow writes, and what it is called in messages."""

    name: str
    version: int
    description: str

    def header(self) -> dict[str, Any]:
        return {"format": self.name, "version": self.version}

    def check(self, data: Any, source: str, error: type[Exception]) -> None:
        """Raise `error` unless `data` is an object of this format at a version this sigflow reads."""
        if not isinstance(data, dict) or data.get("format") != self.name:
            raise error(f"{source} is not {self.description} (no \"format\": \"{self.name}\")")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= self.version:
            raise error(f"{source} has format version {version!r}; this sigflow reads up to {self.version}: "
                        f"upgrade sigflow to load it")
