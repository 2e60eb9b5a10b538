"""sigflow's declarative framework. Importing it loads no model, opens no database and starts no thread."""

from pipelines.adapter import ParseError
from pipelines.config import configure, context
from pipelines.evaluation import (
    EvaluationResult,
    EvaluationStore,
    EveryExampleFailed,
    Feedback,
    Judge,
    Metric,
    TooManyErrors,
    accuracy,
    answer_correct,
    evaluate,
    exact_match,
    grounded,
    macro_f1,
    token_f1,
)
from pipelines.lm import (
    LM,
    Budget,
    BudgetExceeded,
    Completion,
    LMError,
    ScriptedLM,
    Usage,
    track_usage,
)
from pipelines.modules import (
    BestOfN,
    ChainOfThought,
    Ensemble,
    Module,
    Predict,
    Predictor,
    ReAct,
    Refine,
    Retrieve,
    majority,
)
from pipelines.parallel import parallel_map
from pipelines.primitives import Example, Prediction
from pipelines.signatures import InputField, OutputField, Signature, SignatureError
from pipelines.state import StateError
from pipelines.tools import Tool

__all__ = [
    "LM",
    "BestOfN",
    "Budget",
    "BudgetExceeded",
    "ChainOfThought",
    "Completion",
    "Ensemble",
    "EvaluationResult",
    "EvaluationStore",
    "EveryExampleFailed",
    "Example",
    "Feedback",
    "InputField",
    "Judge",
    "LMError",
    "Metric",
    "Module",
    "OutputField",
    "ParseError",
    "Predict",
    "Prediction",
    "Predictor",
    "ReAct",
    "Refine",
    "Retrieve",
    "ScriptedLM",
    "Signature",
    "SignatureError",
    "StateError",
    "TooManyErrors",
    "Tool",
    "Usage",
    "accuracy",
    "answer_correct",
    "configure",
    "context",
    "evaluate",
    "exact_match",
    "grounded",
    "macro_f1",
    "majority",
    "parallel_map",
    "token_f1",
    "track_usage",
]
