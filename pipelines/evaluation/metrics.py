"""Metrics: a per-example score plus how scores combine (a mean, or a corpus-level figure like macro-F1)."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from pipelines.fieldtypes import to_jsonable
from pipelines.primitives import Example

Outputs = Mapping[str, Any] | None  # None: the program failed on this example


def _mean(scores: Sequence[float], examples: Sequence[Example], outputs: Sequence[Outputs]) -> float:
    return fmean(scores) if scores else 0.0


@dataclass(frozen=True)
class Metric:
    name: str
    score: Callable[[Example, Mapping[str, Any]], float]
    aggregate: Callable[[Sequence[float], Sequence[Example], Sequence[Outputs]], float] = field(default=_mean)


class Feedback(float):
    """A score that says why: the reflective optimizer shows `text` to the LM; everywhere else it is the score."""

    text: str

    def __new__(cls, score: float, text: str) -> Feedback:
        scored = super().__new__(cls, score)
        scored.text = text
        return scored

    def __repr__(self) -> str:
        return f"Feedback({float(self)!r}, {self.text!r})"


def as_metric(metric: Metric | Callable[[Example, Any], float | bool]) -> Metric:
    """A `Metric` from any `metric(example, prediction) -> float | bool | Feedback` function."""
    if isinstance(metric, Metric):
        return metric
    if not callable(metric):
        raise TypeError(f"a metric is a Metric or a function (example, prediction) -> float, got {metric!r}")
    return Metric(name=getattr(metric, "__name__", "metric"), score=lambda ex, out: _score(metric(ex, out)))


def _score(value: Any) -> float:
    return value if isinstance(value, Feedback) else float(value)


def normalize_answer(text: str) -> str:
    """HotpotQA's (and SQuAD's) normalization: lower case, no punctuation, no articles, single spaces."""
    text = "".join(char for char in str(text).lower() if char not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def _text(value: Any) -> str:
    value = to_jsonable(value)
    return value if isinstance(value, str) else str(value)


def exact_match(field_name: str = "answer") -> Metric:
    return Metric(f"exact_match:{field_name}", lambda example, outputs: float(
        normalize_answer(_text(outputs[field_name])) == normalize_answer(_text(example[field_name]))))


def token_f1(field_name: str = "answer") -> Metric:
    def score(example: Example, outputs: Mapping[str, Any]) -> float:
        predicted = normalize_answer(_text(outputs[field_name])).split()
        gold = normalize_answer(_text(example[field_name])).split()
        common = sum((Counter(predicted) & Counter(gold)).values())
        if not predicted or not gold or common == 0:
            return float(predicted == gold)
        precision, recall = common / len(predicted), common / len(gold)
        return 2 * precision * recall / (precision + recall)

    return Metric(f"f1:{field_name}", score)


def accuracy(field_name: str = "label") -> Metric:
    return Metric(f"accuracy:{field_name}", lambda example, outputs: float(
        _text(outputs[field_name]).strip().lower() == _text(example[field_name]).strip().lower()))


def macro_f1(field_name: str = "label") -> Metric:
    """Per example: right or wrong; over the set: the unweighted mean of each gold class's F1."""
    def aggregate(scores: Sequence[float], examples: Sequence[Example], outputs: Sequence[Outputs]) -> float:
        gold = [_text(example[field_name]).lower() for example in examples]
        predicted = [_text(out[field_name]).lower() if out is not None else None for out in outputs]
        f1s = []
        for label in sorted(set(gold)):
            hits = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
            guessed, actual = predicted.count(label), gold.count(label)
            f1s.append(0.0 if hits == 0 else 2 * hits / (guessed + actual))
        return fmean(f1s) if f1s else 0.0

    return Metric(f"macro_f1:{field_name}", accuracy(field_name).score, aggregate)
