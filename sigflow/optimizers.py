"""`sigflow.optimizers`: programs made better against a metric (re-exported from the framework)."""

from pipelines.optimizers import MIPRO, BootstrapFewShot, BootstrapRandomSearch, KNNFewShot, LabeledFewShot, Optimizer
from pipelines.optimizers.base import CallEstimate
from pipelines.optimizers.presets import SearchSettings

__all__ = ["MIPRO", "BootstrapFewShot", "BootstrapRandomSearch", "CallEstimate", "KNNFewShot", "LabeledFewShot",
           "Optimizer", "SearchSettings"]
