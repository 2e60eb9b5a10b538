"""The job behind `sigflow optimize --join RUN_ID`: one more worker on a mipro search that `sigflow optimize
--storage` started. It rebuilds the same program, data and search from the request the run logged, takes
trials until none is left, and nests each one under that run on the tracking server all workers share."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipelines.config import context
from pipelines.lm.client import LM
from pipelines.lm.usage import Usage, track_usage
from pipelines.optimizers.storage import HEARTBEAT_SECONDS
from serving import tracking
from sigflow.jobs.optimize import OPTIMIZERS, REQUEST_ARTIFACT, OptimizeRequest


@dataclass(frozen=True)
class JoinReport:
    run_id: str
    request: OptimizeRequest
    trials: int
    """Trials this worker ran."""
    usage: Usage
    seconds: float

    def summary(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "program": self.request.program, "trials": self.trials,
                "lm_calls": self.usage.calls, "cache_hits": self.usage.cache_hits,
                "prompt_tokens": self.usage.prompt_tokens, "completion_tokens": self.usage.completion_tokens,
                "seconds": round(self.seconds, 3)}


def join_optimization(run_id: str, storage: str, *, num_threads: int = 4, budget_calls: int | None = None,
                      budget_tokens: int | None = None, heartbeat_seconds: int = HEARTBEAT_SECONDS) -> JoinReport:
    """Work on the search of run `run_id`, kept in `storage`, until its trials are done, under this worker's
    own budget; the LM is the one the run optimizes with."""
    request, lm_model = _logged_request(run_id)
    request = replace(request, storage=storage, heartbeat_seconds=heartbeat_seconds, num_threads=num_threads,
                      budget_calls=budget_calls, budget_tokens=budget_tokens)
    task = request.task()
    train, val = task.dataset.split("train", request.train), task.dataset.split("dev", request.val)
    optimizer = OPTIMIZERS["mipro"](task.primary, request.study(run_id), request, joined_run=run_id,
                                    num_threads=num_threads, budget=request.budget, seed=request.seed)
    started = time.perf_counter()
    with context(lm=LM(lm_model)), track_usage() as usage:
        optimizer.compile(task.build(), train, val)
    return JoinReport(run_id, request, optimizer.worker_trials_, usage.total, time.perf_counter() - started)


def _logged_request(run_id: str) -> tuple[OptimizeRequest, str]:
    """The request run `run_id` was started with, and its LM; refused unless that run is still going."""
    mlflow = tracking.mlflow_module()
    try:
        run = mlflow.get_run(run_id)
    except mlflow.exceptions.MlflowException as error:
        raise ValueError(f"no MLflow run {run_id!r} in {mlflow.get_tracking_uri()}: join a run of the tracking "
                         "server the search logs to ($MLFLOW_TRACKING_URI)") from error
    if run.info.status != "RUNNING":
        raise ValueError(f"run {run_id} is {run.info.status.lower()}: there is no search left to join")
    try:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=REQUEST_ARTIFACT)
    except (mlflow.exceptions.MlflowException, OSError) as error:
        raise ValueError(f"run {run_id} logged no {REQUEST_ARTIFACT}: it is not a search to join") from error
    values = json.loads(Path(path).read_text())
    lm_model, shared = values.pop("lm"), values.pop("shared")
    if not shared:
        raise ValueError(f"run {run_id} keeps its search in a study of its own: only a search started with "
                         "--storage can be joined")
    return OptimizeRequest.from_dict(values), lm_model
