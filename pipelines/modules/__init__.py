"""Modules: the building blocks of programs."""

from pipelines.modules.chain_of_thought import ChainOfThought
from pipelines.modules.module import Module, Predictor
from pipelines.modules.predict import Predict
from pipelines.modules.retrieve import Retrieve

__all__ = ["ChainOfThought", "Module", "Predict", "Predictor", "Retrieve"]
