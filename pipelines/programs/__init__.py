"""The shipped programs, `classify`, `rag`, `multihop` and `agent`: what each needs and how it is scored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipelines.datasets import Dataset
from pipelines.evaluation.metrics import Metric
from pipelines.modules import Module
from pipelines.programs.agent import Agent, agent_metrics
from pipelines.programs.classify import Classify, classify_metrics
from pipelines.programs.multihop import MultiHop
from pipelines.programs.rag import RAG, rag_metrics
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


def _over_store(program: Callable[..., Module]) -> Callable[[Dataset | None], Module]:
    """Builds `program` over the store of the dataset's corpus (none without a corpus)."""
    def build(dataset: Dataset | None) -> Module:
        if dataset is None or dataset.corpus is None:
            return program()
        return program(cached_store(dataset.store_name, dataset.corpus))

    return build


PROGRAMS = {
    "classify": ProgramSpec("classify", ("trec",), "question", lambda dataset: Classify(), classify_metrics),
    "rag": ProgramSpec("rag", ("bbc", "hotpotqa"), "question", _over_store(RAG), rag_metrics),
    "multihop": ProgramSpec("multihop", ("hotpotqa", "bbc"), "question", _over_store(MultiHop), rag_metrics),
    "agent": ProgramSpec("agent", ("bbc-agent",), "question", _over_store(Agent), agent_metrics),
}


def program_spec(name: str) -> ProgramSpec:
    if name not in PROGRAMS:
        raise ValueError(f"unknown program {name!r}; choose one of {', '.join(PROGRAMS)}")
    return PROGRAMS[name]


__all__ = ["PROGRAMS", "RAG", "Agent", "Classify", "MultiHop", "ProgramSpec", "program_spec"]
