"""One MIPRO search of `classify` on TREC run by one and by two worker processes on this machine, its study
in PostgreSQL: the first worker is `sigflow optimize --storage`'s job, the second `sigflow optimize --join`.
Each worker runs one embedded-model process of one thread and starts from an empty LM cache of its own, so
every call is real. The search phase runs from the first trial's start to the last trial's end; before it
the first worker alone scores the baseline, bootstraps demos and proposes instructions, and after it scores
the chosen program, the same work in both rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from pipelines import settings
from pipelines.optimizers.storage import StudyStore
from tests.services import postgres_cluster
from tests.sigflow.shared_search_run import command

SIGFLOW = str(Path(sys.executable).with_name("sigflow"))
HEARTBEAT_SECONDS = 60
FULL = {"train": 24, "search": {"num_candidates": 3, "num_trials": 16, "minibatch_size": 4, "val_size": 32,
                                "num_full_evals": 1, "max_bootstrapped_demos": 2, "max_labeled_demos": 2,
                                "search_nearest_demos": False}}
QUICK = {"train": 4, "search": {"num_candidates": 1, "num_trials": 2, "minibatch_size": 1, "val_size": 2,
                                "num_full_evals": 1, "max_bootstrapped_demos": 1, "max_labeled_demos": 0,
                                "search_nearest_demos": False}}


def run(quick: bool) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    with postgres_cluster() as storage:
        rows = [_measure(storage, workers, plan) for workers in (1, 2)]
    return {**plan, "rows": rows, "speed_up": rows[0]["search_seconds"] / rows[1]["search_seconds"],
            "call_rate_speed_up": (rows[1]["search_lm_calls_per_minute"] / rows[0]["search_lm_calls_per_minute"]
                                   if rows[0]["search_lm_calls"] else None),  # quick mode's trials hit the cache
            "whole_speed_up": rows[0]["seconds"] / rows[1]["seconds"]}


def _measure(storage: str, workers: int, plan: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}", "SIGFLOW_ARTIFACT_ROOT": str(root)}
        started = time.perf_counter()
        first = _start(command(storage, HEARTBEAT_SECONDS, plan["train"], plan["search"]), root / "worker0",
                       tracking)
        run_id = first.stdout.readline().split()[-1]
        joiners = [_start([SIGFLOW, "optimize", "--join", run_id, "--storage", storage, "--threads", "2"],
                          root / f"worker{index}", tracking) for index in range(1, workers)]
        summary = json.loads(_finished(first).splitlines()[-1])
        seconds = time.perf_counter() - started
        for joiner in joiners:
            _finished(joiner)
    store = StudyStore(storage, f"sigflow-{run_id}")
    trials = optuna.load_study(study_name=store.name, storage=store.storage()).get_trials(
        deepcopy=False, states=(TrialState.COMPLETE,))
    search_seconds = (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()
    search_calls = sum(trial.user_attrs["lm_calls"] for trial in trials)
    return {"workers": workers, "trials": len(trials), "seconds": seconds, "search_seconds": search_seconds,
            "trials_per_minute": 60 * len(trials) / search_seconds, "search_lm_calls": search_calls,
            "search_lm_calls_per_minute": 60 * search_calls / search_seconds, "lm_calls": summary["lm_calls"],
            "score": summary["score"], "baseline_score": summary["baseline_score"],
            "by_worker": _trials_by_worker(trials)}


def _start(arguments: list[str], directory: Path, tracking: dict[str, str]) -> subprocess.Popen:
    directory.mkdir()
    environment = {**os.environ, **tracking, "SIGFLOW_CACHE_DIR": str(directory / "cache"),
                   "SIGFLOW_MODEL_DIR": str(settings.model_dir()), "SIGFLOW_LOCAL_WORKERS": "1",
                   "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with open(directory / "stderr.log", "w") as stderr:
        return subprocess.Popen(arguments, cwd=directory, env=environment, text=True, stdout=subprocess.PIPE,
                                stderr=stderr)


def _finished(worker: subprocess.Popen) -> str:
    out, _ = worker.communicate()
    if worker.returncode != 0:
        raise RuntimeError(f"a worker ({' '.join(worker.args[:4])} ...) exited with {worker.returncode}")
    return out


def _trials_by_worker(trials: list[optuna.trial.FrozenTrial]) -> list[int]:
    counts: dict[str, int] = {}
    for trial in trials:
        worker = trial.user_attrs.get("sigflow.worker", "?")
        counts[worker] = counts.get(worker, 0) + 1
    return sorted(counts.values(), reverse=True)


def report(result: dict[str, Any]) -> str:
    search = result["search"]
    rows = [f"| {row['workers']} | {row['trials']} | {row['search_seconds']:.0f} | {row['trials_per_minute']:.1f} | "
            f"{row['search_lm_calls']} ({row['search_lm_calls_per_minute']:.1f}) | {row['seconds']:.0f} | "
            f"{row['lm_calls']} | {row['baseline_score']:.3f} -> {row['score']:.3f} | "
            f"{', '.join(map(str, row['by_worker']))} |" for row in result["rows"]]
    rate = (f"; of the LM calls per minute in it (the sampler may choose costlier combinations in one row than in "
            f"the other): {result['call_rate_speed_up']:.2f}x" if result.get("call_rate_speed_up") else "")
    return "\n".join([
        f"classify on TREC: train {result['train']}, {search['num_trials']} minibatch trials of "
        f"{search['minibatch_size']}, {search['val_size']} validation examples, {search['num_candidates']} "
        "candidates per predictor. In a shared study the two anchors and the full evaluation are scored in "
        "minibatch-sized parts, so the workers share them: hence more trials than 2 + 16 + 1.", "",
        "| workers | trials | search phase s | trials per minute | search LM calls (per minute) | whole run s | "
        "LM calls (first worker) | validation score | trials per worker |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---|",
        *rows, "",
        f"Speed-up of the search phase with two workers: {result['speed_up']:.2f}x{rate}; of the whole run: "
        f"{result['whole_speed_up']:.2f}x (the baseline, bootstrapping, proposals and the final score are one "
        "worker's in both)."])
