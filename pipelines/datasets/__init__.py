"""Dataset loaders. Data comes from installed packages or a directory the caller names, never a download."""

from pipelines.datasets.trec import TREC_LABELS, TrecQuestion, load_trec

__all__ = ["TREC_LABELS", "TrecQuestion", "load_trec"]
