"""Dataset loaders. Data comes from installed packages or a directory the caller names, never a download."""

from __future__ import annotations

from pathlib import Path

from pipelines.datasets.bbc import load_bbc
from pipelines.datasets.bbc_agent import load_bbc_agent
from pipelines.datasets.dataset import Dataset
from pipelines.datasets.hotpotqa import load_hotpotqa
from pipelines.datasets.tickets import TEAMS, load_tickets
from pipelines.datasets.trec import TREC_LABELS, TrecQuestion, load_trec, trec_dataset

DATASETS = ("trec", "bbc", "bbc-agent", "hotpotqa", "tickets")


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """`trec`, `bbc`, `bbc-agent`, `hotpotqa` (which needs `data_dir`) or `tickets`."""
    if name == "trec":
        return trec_dataset()
    if name == "bbc":
        return load_bbc()
    if name == "bbc-agent":
        return load_bbc_agent()
    if name == "hotpotqa":
        return load_hotpotqa(data_dir)
    if name == "tickets":
        return load_tickets()
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


__all__ = ["DATASETS", "TEAMS", "TREC_LABELS", "Dataset", "TrecQuestion", "load_dataset", "load_tickets", "load_trec",
           "trec_dataset"]
