"""The jobs behind `sigflow evaluate`, `rescore` and `predict`: a shipped program scored, re-scored or run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.config import context
from pipelines.evaluation.evaluate import EvaluationResult, evaluate
from pipelines.fieldtypes import to_jsonable
from pipelines.lm.client import LM
from pipelines.modules import Module
from pipelines.primitives import Prediction
from pipelines.programs import program_spec
from serving import tracking
from sigflow.jobs.shipped import prepare


@dataclass(frozen=True)
class EvaluationReport:
    program: str
    dataset: str
    split: str
    result: EvaluationResult
    metrics: dict[str, float]
    run_id: str | None

    def summary(self) -> dict[str, Any]:
        """The `--json` object of the CLI contract."""
        usage = self.result.usage
        return {
            "program": self.program, "dataset": self.dataset, "split": self.split,
            "score": self.result.score, "metric": self.result.metric, "metrics": self.metrics,
            "n": self.result.n, "errors": self.result.errors, "lm_calls": usage.calls,
            "cache_hits": usage.cache_hits, "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens, "cost": usage.cost,
            "parse_failures": usage.parse_failures, "parse_retries": usage.parse_retries,
            "seconds": round(self.result.seconds, 3), "run_id": self.run_id,
        }


def evaluate_program(program: str, *, dataset: str | None = None, data_dir: str | Path | None = None,
                     split: str = "dev", limit: int | None = None, state: Path | None = None, lm: LM,
                     num_threads: int = 4, log: bool = True, built: Module | None = None) -> EvaluationReport:
    """Evaluate a shipped program on a split, logged as an MLflow run with its predictions. `built` replaces
    the program built for the dataset (a RAG over a smaller store, say)."""
    spec, loaded, built = prepare(program, dataset, data_dir, state, built)
    examples = loaded.split(split, limit)
    metrics = spec.metrics()
    primary = next(iter(metrics.values()))
    with context(lm=lm):
        result = evaluate(built, examples, primary, num_threads=num_threads, description=f"{program} on {split}")
    values = result.scores(metrics)
    run_id = None
    if log:
        params = {"program": program, "dataset": loaded.name, "split": split, "limit": limit, "lm": lm.model,
                  "state": state, "fingerprint": result.program_fingerprint, "n": result.n}
        with tracking.run(f"evaluate {program} on {loaded.name}/{split}", params) as run_id:
            tracking.log_evaluation(result, values)
    return EvaluationReport(program, loaded.name, split, result, values, run_id)


def rescore_run(run_id: str, metric_name: str) -> dict[str, Any]:
    """Recompute a logged evaluation's score with another of its program's metrics: no LM call. The new
    value is logged to the run as `rescored_<metric>`."""
    params, stored = tracking.load_evaluation(run_id)
    metrics = program_spec(params.get("program", "")).metrics()
    if metric_name not in metrics:
        raise ValueError(f"unknown metric {metric_name!r} for {params.get('program')}; choose one of "
                         f"{', '.join(metrics)}")
    rescored = stored.rescore(metrics[metric_name])
    tracking.log_metrics_to(run_id, {f"rescored_{metric_name}": rescored.score})
    return {"run_id": run_id, "metric": metric_name, "score": rescored.score, "previous_metric": stored.metric,
            "previous_score": stored.score, "n": rescored.n, "lm_calls": 0}


def predict_text(program: str, text: str, *, dataset: str | None = None, data_dir: str | Path | None = None,
                 state: Path | None = None, lm: LM) -> dict[str, Any]:
    """Run a shipped program on one input text; returns its outputs as JSON data."""
    if not text.strip():
        raise ValueError("the input text is empty")
    spec, _, built = prepare(program, dataset, data_dir, state)
    started = time.perf_counter()
    with context(lm=lm):
        prediction: Prediction = built(**{spec.input_field: text})
    return {"outputs": to_jsonable(prediction.to_dict()), "lm_calls": prediction.usage.calls,
            "cached": prediction.cached, "seconds": round(time.perf_counter() - started, 3)}
