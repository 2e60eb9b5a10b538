"""MLflow records of an optimization: a nested run per search trial, and the search's artifacts (the trial
table, the optimization-history plot and, with several objectives, the Pareto plot); a nested run per
candidate of the reflective search."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from pipelines.optimizers.reflective import CandidateListener, CandidateRecord
from pipelines.optimizers.search import TrialListener, TrialRecord
from pipelines.optimizers.search_space import SearchSpace
from serving.tracking import mlflow_module

TRIAL_METRICS = ("minibatch_score", "score", "seen", "examples", "tokens", "latency", "lm_calls", "cache_hits",
                 "prompt_tokens", "completion_tokens", "seconds")


class MlflowTrialLogger(TrialListener):
    """A search listener: each finished trial becomes a nested run of the active MLflow run, with its
    choices as parameters (instruction texts included) and its scores and cost as metrics; at the end the
    trial table and the plots are logged in the active run. A worker that joined a search started elsewhere
    nests its trials under that search's run (`parent_run_id`) and leaves the table and plots to it."""

    def __init__(self, parent_run_id: str | None = None):
        self.parent_run_id = parent_run_id
        self._experiment_id: str | None = None

    def on_trial(self, record: TrialRecord, space: SearchSpace) -> None:
        mlflow = mlflow_module()
        params: dict[str, Any] = {"kind": record.kind, "combination": record.combination, **record.params}
        for name, choice in space.describe(space.combination(record.params)).items():
            params[f"{name}.instruction_text"] = choice["instruction"][:500]
            params[f"{name}.demo_count"] = choice["demos"]
        with self._nested_run(f"trial {record.number} ({record.kind})"):
            mlflow.log_params(params)
            mlflow.log_metrics({name: float(getattr(record, name)) for name in TRIAL_METRICS
                                if getattr(record, name) is not None})
            mlflow.set_tag("sigflow.full_score", str(record.full).lower())

    def on_search_end(self, study, trials: Sequence[TrialRecord], objectives: Sequence[str]) -> None:
        if self.parent_run_id is None:
            _log_search(study, trials, objectives)

    def _nested_run(self, name: str):
        mlflow = mlflow_module()
        if self.parent_run_id is None:
            return mlflow.start_run(run_name=name, nested=True)
        if self._experiment_id is None:
            self._experiment_id = mlflow.get_run(self.parent_run_id).info.experiment_id
        return mlflow.start_run(run_name=name, parent_run_id=self.parent_run_id, experiment_id=self._experiment_id)


def _log_search(study, trials: Sequence[TrialRecord], objectives: Sequence[str]) -> None:
    mlflow = mlflow_module()
    rows = [{**{key: value for key, value in asdict(record).items() if key != "params"}, **record.params}
            for record in trials]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    mlflow.log_table({column: [row.get(column) for row in rows] for column in columns}, artifact_file="trials.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna marks its matplotlib plots experimental
        _log_plots(study, objectives)


def _log_plots(study, objectives: Sequence[str]) -> None:
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as plots

    mlflow = mlflow_module()
    history = plots.plot_optimization_history(study, target=lambda trial: trial.values[0], target_name="quality")
    mlflow.log_figure(history.figure, "optimization_history.png")
    plt.close(history.figure)
    if len(objectives) > 1:
        pareto = plots.plot_pareto_front(study, target_names=list(objectives))
        mlflow.log_figure(pareto.figure, "pareto_front.png")
        plt.close(pareto.figure)


class MlflowCandidateLogger(CandidateListener):
    """A reflective-search listener: each candidate scored on the validation set becomes a nested run of the
    active MLflow run, with its instructions and parents as parameters and its validation score as a metric."""

    def on_candidate(self, record: CandidateRecord) -> None:
        mlflow = mlflow_module()
        params: dict[str, Any] = {"candidate": record.index, "parents": ",".join(map(str, record.parents)) or "-"}
        params.update({f"{name}.instruction_text": text[:500] for name, text in record.instructions.items()})
        with mlflow.start_run(run_name=f"candidate {record.index}", nested=True):
            mlflow.log_params(params)
            mlflow.log_metrics({"score": record.score, "examples": float(len(record.scores))})
