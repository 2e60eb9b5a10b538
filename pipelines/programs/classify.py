"""`classify`: TREC question classification into six answer types, with readable label names."""

from __future__ import annotations

from typing import Literal

from pipelines.evaluation.metrics import accuracy, macro_f1
from pipelines.modules import Module, Predict
from pipelines.primitives import Prediction
from pipelines.signatures import InputField, OutputField, Signature

AnswerType = Literal["abbreviation", "description", "entity", "human", "location", "numeric"]

LABEL_GUIDE = (
    "abbreviation: asks what an abbreviation stands for, or for one; "
    "description: asks for a definition, description, manner or reason; "
    "entity: asks for a thing such as an animal, product, color, event, food, language or term; "
    "human: asks for a person, group, organization or title; "
    "location: asks for a place such as a city, country, mountain or state; "
    "numeric: asks for a number such as a count, date, amount, distance, speed or percentage"
)


class ClassifyQuestion(Signature):
    """Classify the question by the kind of answer it expects."""

    question: str = InputField()
    label: AnswerType = OutputField(desc=LABEL_GUIDE)


class Classify(Module):
    def __init__(self) -> None:
        self.classify = Predict(ClassifyQuestion)

    def forward(self, question: str) -> Prediction:
        return self.classify(question=question)


def classify_metrics() -> dict:
    return {"accuracy": accuracy("label"), "macro_f1": macro_f1("label")}
