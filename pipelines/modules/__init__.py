"""Modules: the building blocks of programs."""

from pipelines.modules.attempts import BestOfN, Refine
from pipelines.modules.chain_of_thought import ChainOfThought
from pipelines.modules.ensemble import Ensemble, majority
from pipelines.modules.module import Module, Predictor
from pipelines.modules.predict import Predict
from pipelines.modules.react import ReAct
from pipelines.modules.retrieve import Retrieve

__all__ = ["BestOfN", "ChainOfThought", "Ensemble", "Module", "Predict", "Predictor", "ReAct", "Refine", "Retrieve",
           "majority"]
