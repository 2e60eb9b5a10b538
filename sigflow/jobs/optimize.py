"""The job behind `sigflow optimize`: a program (shipped, or the user's own on the user's files) optimized as
one MLflow run (a nested run per search trial), under a budget, resumable; a mipro search kept in shared
storage can be joined by workers elsewhere (`sigflow.jobs.join`).

The budget caps the optimizer. The baseline and final scores on the validation split are measurements made
around it and reported apart (`evaluation_lm_calls`); after MIPRO most of them are cache hits."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pipelines.config import context
from pipelines.evaluation.evaluate import EvaluationResult, evaluate
from pipelines.evaluation.metrics import Metric
from pipelines.lm.budget import Budget
from pipelines.lm.client import LM
from pipelines.lm.usage import Usage, track_usage
from pipelines.modules import Module
from pipelines.optimizers import (
    GEPA,
    MIPRO,
    BootstrapFewShot,
    BootstrapRandomSearch,
    KNNFewShot,
    LabeledFewShot,
    Optimizer,
)
from pipelines.optimizers.mipro import check_objectives
from pipelines.optimizers.presets import SearchSettings
from pipelines.optimizers.storage import HEARTBEAT_SECONDS, StudyStore
from serving import tracking
from serving.genai import register_chosen_instructions
from serving.trials import MlflowCandidateLogger, MlflowTrialLogger
from sigflow.jobs.tasks import DataFiles, Task, resolve_task

LABELED_DEMOS = 4
KNN_DEMOS = 4
GEPA_METRIC_CALLS = 200  # program runs; a budget of LM calls (--budget-calls) ends it sooner
REQUEST_ARTIFACT = "optimize_request.json"


@dataclass(frozen=True)
class OptimizeRequest:
    program: str
    optimizer: str
    dataset: str | None = None
    data_dir: Path | None = None
    train: int | None = None
    val: int | None = None
    budget_calls: int | None = None
    budget_tokens: int | None = None
    objectives: tuple[str, ...] = ("quality",)
    auto: str = "light"
    resume: bool = False
    num_threads: int = 4
    seed: int = 0
    search: Mapping[str, int] = field(default_factory=dict)
    """MIPRO settings over the `auto` preset (`num_trials`, `val_size`, ...; see `SearchSettings`)."""
    files: DataFiles = field(default_factory=DataFiles)
    metrics: tuple[str, ...] = ()
    """Metric specs (`accuracy:team`, `file.py:function`); the first is optimized. Default: the program's own."""
    storage: str | None = None
    """Where a mipro search keeps its study for other workers to join: a PostgreSQL URL or a journal file path.
    Never logged: the URL may hold a password."""
    heartbeat_seconds: int = HEARTBEAT_SECONDS

    def to_dict(self) -> dict[str, Any]:
        """The request as JSON, without its storage: what a joining worker rebuilds the search from."""
        values = {**asdict(self), "data_dir": _path_text(self.data_dir), "storage": None,
                  "files": {name: _path_text(path) for name, path in asdict(self.files).items()}}
        return {**values, "objectives": list(self.objectives), "metrics": list(self.metrics),
                "search": dict(self.search)}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> OptimizeRequest:
        files = DataFiles(**{name: Path(path) if path else None for name, path in values["files"].items()})
        return cls(**{**values, "files": files, "data_dir": Path(values["data_dir"]) if values["data_dir"] else None,
                      "objectives": tuple(values["objectives"]), "metrics": tuple(values["metrics"])})

    def study(self, run_id: str, studies_dir: Path | None = None) -> StudyStore:
        """The study of the run `run_id`: in the shared storage if one is given, else an SQLite file of its own
        in `studies_dir`."""
        if self.storage is not None:
            return StudyStore(self.storage, f"sigflow-{run_id}", self.heartbeat_seconds)
        if studies_dir is None:
            raise ValueError("a search without shared storage keeps its study in a directory: give studies_dir")
        return StudyStore.local(studies_dir / f"{run_id}.db")

    def task(self) -> Task:
        return resolve_task(self.program, dataset=self.dataset, data_dir=self.data_dir, files=self.files,
                            metrics=self.metrics)

    @property
    def settings(self) -> SearchSettings:
        return SearchSettings.preset(self.auto, **self.search)

    def check(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.optimizer != "mipro" and self.resume:
            raise ValueError("--resume continues a mipro search; the other optimizers rerun from the LM cache")
        if self.optimizer != "mipro" and tuple(self.objectives) != ("quality",):
            raise ValueError("several objectives need --optimizer mipro")
        check_objectives(self.objectives)
        if self.search and self.optimizer != "mipro":
            raise ValueError("search settings apply to --optimizer mipro")
        if self.storage is not None and self.optimizer != "mipro":
            raise ValueError("--storage shares a mipro search with other workers; give --optimizer mipro")
        SearchSettings.preset(self.auto, **self.search)  # a bad preset or setting is refused before any work

    @property
    def budget(self) -> Budget | None:
        if self.budget_calls is None and self.budget_tokens is None:
            return None
        return Budget(max_calls=self.budget_calls, max_tokens=self.budget_tokens)


@dataclass(frozen=True)
class OptimizationReport:
    request: OptimizeRequest
    dataset: str
    train_size: int
    baseline: EvaluationResult
    final: EvaluationResult
    baseline_metrics: dict[str, float]
    final_metrics: dict[str, float]
    optimizer_usage: Usage
    usage: Usage
    details: dict[str, Any]
    estimate: dict[str, int]
    run_id: str
    seconds: float
    program: Module
    prompts: dict[str, str] = field(default_factory=dict)
    """Each step's instruction as a prompt version in MLflow's registry (`prompts:/classify.self/2`)."""

    def summary(self) -> dict[str, Any]:
        """The `--json` object of the CLI contract."""
        usage = self.usage
        return {
            "program": self.request.program, "dataset": self.dataset, "optimizer": self.request.optimizer,
            "metric": self.final.metric, "score": self.final.score, "baseline_score": self.baseline.score,
            "metrics": self.final_metrics, "baseline_metrics": self.baseline_metrics, "n": self.final.n,
            "train": self.train_size, "lm_calls": usage.calls, "cache_hits": usage.cache_hits,
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "optimizer_lm_calls": self.optimizer_usage.calls,
            "evaluation_lm_calls": usage.calls - self.optimizer_usage.calls,
            "estimated_lm_calls": self.estimate["lm_calls"], **self.details,
            "seconds": round(self.seconds, 3), "run_id": self.run_id,
        }

    def scores(self) -> dict[str, Any]:
        """How the optimized program scored, as a registered version is tagged with it."""
        return {"dataset": self.dataset, "metric": self.final.metric, "score": self.final.score,
                "optimizer": self.request.optimizer}


def estimate_optimization(request: OptimizeRequest) -> dict[str, int]:
    """Upper-bound LM calls of `optimize_program`, before any is made (`--dry-run`)."""
    request.check()
    task = request.task()
    train, val = task.dataset.split("train", request.train), task.dataset.split("dev", request.val)
    return _estimate(request, _optimizer(request, task.primary, None), task.skeleton(), train, val)


def optimize_program(request: OptimizeRequest, *, lm: LM, studies_dir: Path, program: Module | None = None,
                     on_run: Callable[[str], None] | None = None) -> OptimizationReport:
    """Optimize, then score the program before and after on the validation split, all in one MLflow run.
    `program` replaces the one built for the dataset (a RAG over a smaller store, say); `on_run` is told the
    run's id as soon as it exists (the id other workers join)."""
    request.check()
    task = request.task()
    loaded, metrics, primary = task.dataset, task.metrics, task.primary
    program = program or task.build()
    train, val = loaded.split("train", request.train), loaded.split("dev", request.val)
    tags = {"sigflow.command": "optimize", "sigflow.program": request.program, "sigflow.dataset": loaded.name,
            "sigflow.optimizer": request.optimizer}
    resume_id = _interrupted_run(request, tags)
    params = {**asdict(replace(request, storage=None)), "dataset": loaded.name, "train_size": len(train),
              "val_size": len(val), "lm": lm.model, "fingerprint": program.fingerprint()}
    started = time.perf_counter()
    with tracking.run(f"optimize {request.program} on {loaded.name} with {request.optimizer}", params, tags=tags,
                      resume_id=resume_id) as run_id, context(lm=lm), track_usage() as usage:
        tracking.mlflow_module().log_dict({**request.to_dict(), "lm": lm.model, "shared": request.storage is not None},
                                          REQUEST_ARTIFACT)
        if on_run is not None:
            on_run(run_id)
        optimizer = _optimizer(request, primary, request.study(run_id, studies_dir))
        estimated = _estimate(request, optimizer, program, train, val)
        baseline = evaluate(program, val, primary, num_threads=request.num_threads, description="baseline")
        with track_usage() as optimizer_usage:
            optimized = optimizer.compile(program, train, val)
        final = evaluate(optimized, val, primary, num_threads=request.num_threads, description="optimized")
        prompts = register_chosen_instructions(optimized, request.program, {
            "run_id": run_id, "dataset": loaded.name, "metric": final.metric, "score": f"{final.score:.4f}",
            "optimizer": request.optimizer})
        report = OptimizationReport(request, loaded.name, len(train), baseline, final, baseline.scores(metrics),
                                    final.scores(metrics), optimizer_usage.total, usage.total, optimizer.report(),
                                    estimated, run_id, time.perf_counter() - started, optimized, prompts)
        _log(report)
    return report


def _interrupted_run(request: OptimizeRequest, tags: dict[str, str]) -> str | None:
    if not request.resume:
        return None
    found = tracking.latest_run(tags, unfinished=True)
    if found is None:
        raise ValueError(f"no interrupted {request.optimizer} optimization of {request.program} on "
                         f"{tags['sigflow.dataset']} to resume")
    return found


def _mipro(metric: Metric, study: StudyStore | None, request: OptimizeRequest, *, joined_run: str | None = None,
           **common: Any) -> MIPRO:
    """The search of `request`, or with `joined_run` a worker on that run's search."""
    return MIPRO(metric, settings=request.settings, objectives=request.objectives, study=study,
                 resume=request.resume and joined_run is None, join=joined_run is not None,
                 listeners=[MlflowTrialLogger(parent_run_id=joined_run)], **common)


OptimizerFactory = Callable[..., Optimizer]
OPTIMIZERS: dict[str, OptimizerFactory] = {
    "labeled": lambda metric, study, request, seed, **_: LabeledFewShot(k=LABELED_DEMOS, seed=seed),
    "bootstrap": lambda metric, study, request, **common: BootstrapFewShot(metric, **common),
    "random": lambda metric, study, request, **common: BootstrapRandomSearch(metric, **common),
    "knn": lambda metric, study, request, **common: KNNFewShot(k=KNN_DEMOS, metric=metric, **common),
    "gepa": lambda metric, study, request, **common: GEPA(metric, max_metric_calls=GEPA_METRIC_CALLS,
                                                          listeners=[MlflowCandidateLogger()], **common),
    "mipro": _mipro,
}
"""Each optimizer by its CLI name: a factory of (metric, study, request, and the settings all share)."""


def _optimizer(request: OptimizeRequest, metric: Metric, study: StudyStore | None) -> Optimizer:
    return OPTIMIZERS[request.optimizer](metric, study, request, num_threads=request.num_threads,
                                         budget=request.budget, seed=request.seed)


def _estimate(request: OptimizeRequest, optimizer: Optimizer, program: Module, train: list, val: list
              ) -> dict[str, int]:
    estimate = optimizer.estimate(program, train, val)
    optimizer_calls = estimate.lm_calls
    if request.budget_calls is not None:
        optimizer_calls = min(optimizer_calls, request.budget_calls)
    evaluation_calls = 2 * len(val) * estimate.lm_calls_per_run
    return {"optimizer_lm_calls": optimizer_calls, "evaluation_lm_calls": evaluation_calls,
            "lm_calls": optimizer_calls + evaluation_calls}


def _path_text(path: Path | None) -> str | None:
    return str(path.resolve()) if path is not None else None


def _log(report: OptimizationReport) -> None:
    mlflow = tracking.mlflow_module()
    tracking.log_evaluation(report.baseline, report.baseline_metrics, prefix="baseline_")
    tracking.log_evaluation(report.final, report.final_metrics)
    summary = report.summary()
    mlflow.log_metrics({name: float(summary[name]) for name in (
        "baseline_score", "optimizer_lm_calls", "evaluation_lm_calls", "estimated_lm_calls", "program_runs",
        "proposal_lm_calls", "trials") if summary.get(name) is not None})
    mlflow.log_metrics({"optimizer_prompt_tokens": report.optimizer_usage.prompt_tokens,
                        "optimizer_completion_tokens": report.optimizer_usage.completion_tokens,
                        "total_seconds": report.seconds, "stopped_by_budget": float(summary["stopped_by_budget"])})
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "program_state.json"
        report.program.save(path)
        mlflow.log_artifact(str(path))
    if report.details.get("proposed_instructions"):
        mlflow.log_dict(report.details["proposed_instructions"], "proposed_instructions.json")
    tracking.mark_finished()
