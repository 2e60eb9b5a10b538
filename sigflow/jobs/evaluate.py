"""The jobs behind `sigflow evaluate`, `rescore` and `predict`: a program, shipped or the user's own, scored,
re-scored or run."""

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
from pipelines.programs import PROGRAMS, program_spec
from serving import tracking
from sigflow.jobs.metric_specs import metric_from_spec
from sigflow.jobs.tasks import NO_FILES, DataFiles, resolve_task, runnable


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
                     split: str | None = None, limit: int | None = None, state: Path | None = None, lm: LM,
                     num_threads: int = 4, log: bool = True, built: Module | None = None,
                     files: DataFiles = NO_FILES, metrics: tuple[str, ...] = ()) -> EvaluationReport:
    """Evaluate PROGRAM (a shipped name or `file.py:Class`) on a split of its dataset or on `files.data`,
    logged as an MLflow run with its predictions. `built` replaces the program built for the dataset (a RAG
    over a smaller store, say). When every example fails on the provider, nothing is logged: the error is
    raised."""
    task = resolve_task(program, dataset=dataset, data_dir=data_dir, files=files, metrics=metrics)
    split = split or task.default_split
    examples = task.dataset.split(split, limit)
    built = _with_state(built or task.build(), state)
    with context(lm=lm):
        result = evaluate(built, examples, task.primary, num_threads=num_threads, description=f"{program} on {split}")
    values = result.scores(task.metrics)
    run_id = None
    if log:
        params = {"program": program, "dataset": task.dataset.name, "split": split, "limit": limit, "lm": lm.model,
                  "state": state, "fingerprint": result.program_fingerprint, "n": result.n,
                  "metrics": ",".join(task.metrics)}
        with tracking.run(f"evaluate {program} on {task.dataset.name}/{split}", params) as run_id:
            tracking.log_evaluation(result, values)
    return EvaluationReport(program, task.dataset.name, split, result, values, run_id)


def _with_state(program: Module, state: Path | None) -> Module:
    """`program` with saved state loaded into it, if a state file is given."""
    return program.load(state) if state is not None else program


def rescore_run(run_id: str, metric_name: str) -> dict[str, Any]:
    """Recompute a logged evaluation's score with another of its program's metrics: no LM call. The new
    value is logged to the run as `rescored_<metric>`."""
    params, stored = tracking.load_evaluation(run_id)
    program = params.get("program", "")
    known = program_spec(program).metrics() if program in PROGRAMS else {}
    outputs = set().union(*(result.outputs for result in stored.results if result.outputs))
    metric = metric_from_spec(metric_name, known, outputs)
    rescored = stored.rescore(metric)
    key = metric_name if metric_name in known else metric.name  # never a file path in a metric's key
    tracking.log_metrics_to(run_id, {f"rescored_{key}": rescored.score})
    return {"run_id": run_id, "metric": metric_name, "score": rescored.score, "previous_metric": stored.metric,
            "previous_score": stored.score, "n": rescored.n, "lm_calls": 0}


def predict_text(program: str, text: str | None = None, *, inputs: dict[str, str] | None = None,
                 dataset: str | None = None, data_dir: str | Path | None = None, state: Path | None = None,
                 lm: LM) -> dict[str, Any]:
    """Run PROGRAM once, on `text` (a program with one input) or on named `inputs`; returns its outputs as
    JSON data."""
    built, names = runnable(program, dataset=dataset, data_dir=data_dir)
    given = _named_inputs(program, names, text, inputs or {})
    built = _with_state(built, state)
    started = time.perf_counter()
    with context(lm=lm):
        prediction: Prediction = built(**given)
    return {"outputs": to_jsonable(prediction.to_dict()), "lm_calls": prediction.usage.calls,
            "cached": prediction.cached, "seconds": round(time.perf_counter() - started, 3)}


def _named_inputs(target: str, names: tuple[str, ...], text: str | None, inputs: dict[str, str]) -> dict[str, str]:
    """The program's inputs by name, each one checked to be given and not empty."""
    if text is not None:
        if inputs or len(names) != 1:
            raise ValueError(f"{target} takes {', '.join(names)}: give each as --input NAME=VALUE")
        inputs = {names[0]: text}
    missing = [name for name in names if name not in inputs]
    unknown = [name for name in inputs if name not in names]
    if missing or unknown:
        raise ValueError(f"{target} takes the inputs {', '.join(names)}; missing: "
                         f"{', '.join(missing) or 'none'}, unknown: {', '.join(unknown) or 'none'}")
    empty = [name for name, value in inputs.items() if not str(value).strip()]
    if empty:
        raise ValueError(f"the input {empty[0]!r} is empty")
    return inputs
