"""The Optuna study behind a search: in SQLite so a killed search resumes, and in memory otherwise.

A study remembers what it was started for (a fingerprint of the program, the data and the settings) and
the candidates it chooses from, so `resume` continues the same search or says why it cannot."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

log = logging.getLogger(__name__)

INPUTS_ATTR = "sigflow.inputs"
SPACE_ATTR = "sigflow.search_space"
PROPOSED_ATTR = "sigflow.proposed_instructions"
STUDY_NAME = "sigflow"
SQLITE_LOCK_SECONDS = 60


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna's INFO lines ("A new study created", one per finished trial) would interleave with sigflow's own
    progress and trial reports; its warnings still show, and the caller's verbosity comes back after."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(previous, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


class StudyMismatch(ValueError):
    """`resume` pointed at a study of another program, dataset or settings."""


def open_study(path: Path | None, *, directions: list[str], seed: int, startup_trials: int, resume: bool,
               inputs: dict[str, Any]) -> optuna.Study:
    """A new study, or with `resume` the one at `path`, checked against `inputs` (a search killed before it
    saved one starts afresh). Trials a killed process left running or queued are marked failed: their calls
    are in the LM cache, and a new trial takes their place."""
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    storage = study_storage(path)
    exists = path is not None and path.exists() and STUDY_NAME in _study_names(storage)
    if exists and not resume:
        raise FileExistsError(f"a search was already started in {path}: resume it (--resume) or choose another "
                              "directory")
    if resume and path is None:
        raise ValueError("resume needs a study path")
    if resume and not exists:
        log.info("no search was saved in %s before it stopped: starting one", path)
    study = optuna.create_study(storage=storage, sampler=sampler, study_name=STUDY_NAME, directions=directions,
                                load_if_exists=resume)
    if exists and INPUTS_ATTR in study.user_attrs:
        _check_inputs(study, inputs, path)
        _fail_stale_trials(study)
    else:  # new, or killed between creating the study and recording what it is for
        study.set_user_attr(INPUTS_ATTR, inputs)
    return study


def saved_space(study: optuna.Study) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The search space saved in the study, and the instruction proposals it was built from."""
    saved = study.user_attrs.get(SPACE_ATTR)
    return (json.loads(saved), json.loads(study.user_attrs.get(PROPOSED_ATTR) or "{}")) if saved else None


def save_space(study: optuna.Study, space: dict[str, Any], proposed: dict[str, Any]) -> None:
    study.set_user_attr(SPACE_ATTR, json.dumps(space, ensure_ascii=False))
    study.set_user_attr(PROPOSED_ATTR, json.dumps(proposed, ensure_ascii=False))


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def study_storage(path: Path | None) -> optuna.storages.BaseStorage | None:
    """SQLite storage for a study at `path` (None: in memory). Writers from other processes wait for the
    lock (up to `SQLITE_LOCK_SECONDS`) instead of failing with "database is locked"."""
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.RDBStorage(f"sqlite:///{path.resolve()}",
                                      engine_kwargs={"connect_args": {"timeout": SQLITE_LOCK_SECONDS}})


def _study_names(storage: optuna.storages.BaseStorage) -> list[str]:
    return [summary.study_name for summary in optuna.get_all_study_summaries(storage)]


def _check_inputs(study: optuna.Study, inputs: dict[str, Any], path: Path | None) -> None:
    saved = study.user_attrs.get(INPUTS_ATTR, {})
    differences = [f"{key}: was {saved.get(key)!r}, now {value!r}" for key, value in inputs.items()
                   if saved.get(key) != value]
    if differences:
        raise StudyMismatch(f"the search in {path} was started with other inputs, so it cannot be resumed:\n- "
                            + "\n- ".join(differences))


def _fail_stale_trials(study: optuna.Study) -> None:
    """Also the trials a killed search queued but never started (a fixed combination is enqueued, then
    asked for): left waiting, the next ask would hand out their combination in place of the sampler's."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(trial.number, state=TrialState.FAIL)
        log.info("trial %d was left running by an interrupted search; marked failed", trial.number)
    for _ in study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        number = study.ask().number  # the oldest waiting trial, now running
        study.tell(number, state=TrialState.FAIL)
        log.info("trial %d was left queued by an interrupted search; marked failed", number)
