"""The shipped programs, `classify` and `rag`: what each needs and how it is scored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipelines.datasets import Dataset
from pipelines.evaluation.metrics import Metric
from pipelines.modules import Module
from pipelines.programs.classify import Classify, classify_metrics
from pipelines.programs.rag import DEFAULT_K, RAG, rag_metrics
from pipelines.retrieval.indexes import cached_store


@dataclass(frozen=True)
class ProgramSpec:
    """A program as the CLI and serving see it. The first metric is the one optimized and reported as score."""

    name: str
    datasets: tuple[str, ...]
    input_field: str
    build: Callable[[Dataset | None], Module]
    metrics: Callable[[], dict[str, Metric]]

    @property
    def default_dataset(self) -> str:
        return self.datasets[0]

    def check_dataset(self, dataset: str) -> None:
        if dataset not in self.datasets:
            raise ValueError(f"program {self.name!r} runs on {', '.join(self.datasets)}, not {dataset!r}")


def _build_rag(dataset: Dataset | None) -> RAG:
    if dataset is None or dataset.corpus is None:
        return RAG()
    return RAG(cached_store(dataset.name, dataset.corpus), k=DEFAULT_K)


PROGRAMS = {
    "classify": ProgramSpec("classify", ("trec",), "question", lambda dataset: Classify(), classify_metrics),
    "rag": ProgramSpec("rag", ("bbc", "hotpotqa"), "question", _build_rag, rag_metrics),
}


def program_spec(name: str) -> ProgramSpec:
    if name not in PROGRAMS:
        raise ValueError(f"unknown program {name!r}; choose one of {', '.join(PROGRAMS)}")
    return PROGRAMS[name]


__all__ = ["PROGRAMS", "RAG", "Classify", "ProgramSpec", "program_spec"]
