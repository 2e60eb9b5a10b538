"""Dataset loaders. Data comes from installed packages or a directory the caller names, never a download."""

from __future__ import annotations

from pathlib import Path

from pipelines.datasets.bbc import load_bbc
from pipelines.datasets.dataset import Dataset
from pipelines.datasets.hotpotqa import load_hotpotqa
from pipelines.datasets.trec import TREC_LABELS, TrecQuestion, load_trec, trec_dataset

DATASETS = ("trec", "bbc", "hotpotqa")


def load_dataset(name: str, data_dir: str | Path | None = None) -> Dataset:
    """`trec`, `bbc`, or `hotpotqa` (which needs `data_dir`)."""
    if name == "trec":
        return trec_dataset()
    if name == "bbc":
        return load_bbc()
    if name == "hotpotqa":
        return load_hotpotqa(data_dir)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


__all__ = ["DATASETS", "TREC_LABELS", "Dataset", "TrecQuestion", "load_dataset", "load_trec", "trec_dataset"]
