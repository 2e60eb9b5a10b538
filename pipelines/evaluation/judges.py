"""LM judges: metrics written as a signature that an LM answers ("is this answer correct given the gold
one?"), usable wherever a metric is. A judge runs on its own LM (the embedded model unless told otherwise),
its calls are cached like any other and counted apart as `judge_calls` (and inside any active budget), and
its score comes with the judge's rationale as `Feedback`, which the reflective optimizer reads.

A judge's inputs are filled from the example and the program's outputs: by default an input takes the
output of the same name, else the example's field; `inputs` maps names explicitly ("prediction.answer",
"example.answer"). Its verdict is its first output other than the rationale: a bool (1 or 0), a number from
0 to 1, or one of the labels `scores` maps to a number."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import Any

from pipelines import adapter
from pipelines.adapter import ParseError
from pipelines.evaluation.metrics import Feedback, Outputs
from pipelines.lm.client import LM
from pipelines.lm.usage import judging
from pipelines.primitives import Example
from pipelines.signatures import InputField, OutputField, Signature, ensure_signature

log = logging.getLogger(__name__)

RATIONALE = "rationale"
SOURCES = ("example", "prediction")


class Judge:
    """`Judge(signature, name=..., lm=None, inputs=None, scores=None)`: call it as a metric,
    `judge(example, outputs) -> Feedback`."""

    def __init__(self, signature: str | Signature, *, name: str, lm: LM | str | None = None,
                 inputs: Mapping[str, str] | None = None, scores: Mapping[str, float] | None = None):
        self.signature = ensure_signature(signature)
        self.__name__ = name
        verdicts = [field for field in self.signature.output_fields if field != RATIONALE]
        if not verdicts:
            raise ValueError(f"judge {name!r}: its signature needs a verdict output besides {RATIONALE!r}")
        self.verdict = verdicts[0]
        self.scores = dict(scores or {})
        self.inputs = {field: _source(name, field, (inputs or {}).get(field)) for field in self.signature.input_fields}
        self.lm = LM(lm) if isinstance(lm, str) else lm

    def __call__(self, example: Example, outputs: Outputs) -> Feedback:
        asked = {field: _value(field, source, example, outputs or {}) for field, source in self.inputs.items()}
        try:
            with judging():  # not a program step: nothing a bootstrapping trace would keep as a demo
                verdict = adapter.predict(self.lm or _embedded(), self.signature, [], asked)
        except ParseError as error:
            log.warning("judge %s: its reply could not be read, scored 0: %s", self.__name__, error)
            return Feedback(0.0, f"the judge's reply could not be read: {error}")
        return Feedback(self._score(verdict[self.verdict]), str(verdict.get(RATIONALE, "")))

    def _score(self, value: Any) -> float:
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, int | float):
            return min(1.0, max(0.0, float(value)))
        if str(value) in self.scores:
            return float(self.scores[str(value)])
        raise ValueError(f"judge {self.__name__!r} answered {value!r}, which its scores {self.scores} do not map")

    def __repr__(self) -> str:
        return f"Judge({self.__name__!r}, {self.signature.spec!r})"


def _source(name: str, field: str, given: str | None) -> tuple[str | None, str]:
    """(where, which field) an input is read from; where None: the output of that name, else the example's."""
    if given is None:
        return None, field
    where, _, which = given.partition(".")
    if where not in SOURCES or not which:
        raise ValueError(f"judge {name!r}: input {field!r} reads {given!r}; say example.FIELD or prediction.FIELD")
    return where, which


def _value(field: str, source: tuple[str | None, str], example: Example, outputs: Mapping[str, Any]) -> Any:
    where, which = source
    if where == "prediction" or (where is None and which in outputs):
        if which not in outputs:
            raise KeyError(f"the judge's input {field!r} reads the output {which!r}, which the program did not give")
        return outputs[which]
    if which not in example:
        raise KeyError(f"the judge's input {field!r} reads the example's {which!r}, which it does not have")
    return example[which]


@cache
def _embedded() -> LM:
    """The embedded model, made once: a judge's default LM whatever LM the program runs on."""
    return LM()


class CorrectAnswer(Signature):
    """Judge whether the answer says what the gold answer says: the same person, place, number or thing,
    whatever the wording. An answer that adds a wrong claim, names several candidates, or says it does not
    know is not correct."""

    question: str = InputField()
    gold_answer: str = InputField()
    answer: str = InputField(desc="the answer to judge")
    rationale: str = OutputField(desc="one sentence comparing the answer with the gold answer")
    correct: bool = OutputField()


class GroundedAnswer(Signature):
    """Judge whether the passages state what the answer claims. An answer is grounded when a reader of the
    passages alone could give it; one that adds facts the passages do not state is not grounded, even if
    those facts are true."""

    passages: list[str] = InputField()
    question: str = InputField()
    answer: str = InputField(desc="the answer to judge")
    rationale: str = OutputField(desc="one sentence naming the passage that states the answer, or what is missing")
    grounded: bool = OutputField()


def answer_correct(field: str = "answer", *, lm: LM | str | None = None) -> Judge:
    """Is the program's `field` the example's, in meaning (DSPy's SemanticF1 asks much the same)?"""
    return Judge(CorrectAnswer, name=f"answer_correct:{field}", lm=lm, inputs={
        "question": "example.question", "gold_answer": f"example.{field}", "answer": f"prediction.{field}"})


def grounded(field: str = "answer", passages: str = "passages", *, lm: LM | str | None = None) -> Judge:
    """Is the program's `field` supported by the passages it read (its `passages` output)?"""
    return Judge(GroundedAnswer, name=f"grounded:{field}", lm=lm, inputs={
        "passages": f"prediction.{passages}", "question": "example.question", "answer": f"prediction.{field}"})
