"""Optimizers: programs made better against a metric without anyone editing a prompt."""

from pipelines.optimizers.base import Optimizer
from pipelines.optimizers.bootstrap import BootstrapFewShot
from pipelines.optimizers.labeled import LabeledFewShot

__all__ = ["BootstrapFewShot", "LabeledFewShot", "Optimizer"]
