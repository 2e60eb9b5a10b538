"""Optimizers: programs made better against a metric without anyone editing a prompt."""

from pipelines.optimizers.base import Optimizer
from pipelines.optimizers.bootstrap import BootstrapFewShot
from pipelines.optimizers.knn import KNNFewShot
from pipelines.optimizers.labeled import LabeledFewShot
from pipelines.optimizers.mipro import MIPRO
from pipelines.optimizers.random_search import BootstrapRandomSearch
from pipelines.optimizers.reflective import GEPA

__all__ = ["GEPA", "MIPRO", "BootstrapFewShot", "BootstrapRandomSearch", "KNNFewShot", "LabeledFewShot", "Optimizer"]
