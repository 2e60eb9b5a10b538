"""`sigflow.datasets`: the shipped datasets, from installed packages or a directory you name (re-exported)."""

from pipelines.datasets import DATASETS, Dataset, load_dataset

__all__ = ["DATASETS", "Dataset", "load_dataset"]
