"""Evaluation: run programs over examples, score them, store predictions, re-score without LM calls."""

from pipelines.evaluation.evaluate import (
    EvaluationResult,
    EveryExampleFailed,
    ExampleResult,
    TooManyErrors,
    evaluate,
)
from pipelines.evaluation.judges import Judge, answer_correct, grounded
from pipelines.evaluation.metrics import (
    Feedback,
    Metric,
    accuracy,
    as_metric,
    exact_match,
    macro_f1,
    normalize_answer,
    token_f1,
)
from pipelines.evaluation.store import EvaluationFileError, EvaluationStore

__all__ = [
    "EvaluationFileError",
    "EvaluationResult",
    "EvaluationStore",
    "EveryExampleFailed",
    "ExampleResult",
    "Feedback",
    "Judge",
    "Metric",
    "TooManyErrors",
    "accuracy",
    "answer_correct",
    "as_metric",
    "evaluate",
    "exact_match",
    "grounded",
    "macro_f1",
    "normalize_answer",
    "token_f1",
]
