"""`Dataset`: named splits of examples, and for retrieval tasks the passages to search."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.primitives import Example
from pipelines.retrieval.passage import Passage


@dataclass(frozen=True)
class Dataset:
    name: str
    splits: dict[str, list[Example]]
    corpus: list[Passage] | None = None
    corpus_name: str | None = None
    """The corpus's own name where datasets share one (the store is cached under it); else the dataset's."""

    @property
    def store_name(self) -> str:
        return self.corpus_name or self.name

    def split(self, name: str, limit: int | None = None) -> list[Example]:
        if name not in self.splits:
            raise ValueError(f"dataset {self.name!r} has no split {name!r}; it has {', '.join(self.splits)}")
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        return self.splits[name][:limit]
