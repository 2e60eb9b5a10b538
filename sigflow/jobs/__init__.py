"""The jobs behind each command: library functions that take their resources (the LM, the study directory,
the demo's tracking store) as arguments and log to the MLflow store their caller made active, so the CLI,
the notebooks and other programs run the same code."""

from sigflow.jobs.evaluate import EvaluationReport, evaluate_program, predict_text, rescore_run
from sigflow.jobs.index import build_index
from sigflow.jobs.optimize import (
    OPTIMIZERS,
    OptimizationReport,
    OptimizeRequest,
    estimate_optimization,
    optimize_program,
)
from sigflow.jobs.publish import publish_optimized
from sigflow.jobs.tasks import DataFiles, Task, resolve_task

__all__ = [
    "OPTIMIZERS",
    "DataFiles",
    "EvaluationReport",
    "OptimizationReport",
    "OptimizeRequest",
    "Task",
    "build_index",
    "estimate_optimization",
    "evaluate_program",
    "optimize_program",
    "predict_text",
    "publish_optimized",
    "rescore_run",
    "resolve_task",
]
