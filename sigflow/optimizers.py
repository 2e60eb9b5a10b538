"""`sigflow.optimizers`: programs made better against a metric (re-exported from the framework)."""

from pipelines.optimizers import (
    GEPA,
    MIPRO,
    BootstrapFewShot,
    BootstrapRandomSearch,
    KNNFewShot,
    LabeledFewShot,
    Optimizer,
)
from pipelines.optimizers.base import CallEstimate
from pipelines.optimizers.presets import SearchSettings
from pipelines.optimizers.storage import StudyStore

__all__ = ["GEPA", "MIPRO", "BootstrapFewShot", "BootstrapRandomSearch", "CallEstimate", "KNNFewShot",
           "LabeledFewShot", "Optimizer", "SearchSettings", "StudyStore"]
