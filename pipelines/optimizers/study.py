"""The Optuna study behind a search: in SQLite so a killed search resumes, in memory otherwise, or in a
storage many workers share (see `storage`).

A study remembers what it was started for (a fingerprint of the program, the data and the settings) and
the candidates it chooses from, so `resume` continues the same search or says why it cannot, and a worker
that joins it checks that it would run the same search."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import optuna
from optuna.trial import TrialState

from pipelines.optimizers.storage import StudyStore

log = logging.getLogger(__name__)

INPUTS_ATTR = "sigflow.inputs"
SPACE_ATTR = "sigflow.search_space"
PROPOSED_ATTR = "sigflow.proposed_instructions"
JOIN_POLL_SECONDS = 2.0
JOIN_WAIT_SECONDS = 3600.0  # bootstrapping and proposing may take this long before a joiner has work


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
    """`resume` or a joining worker pointed at a study of another program, dataset or settings."""


def open_study(store: StudyStore | None, *, directions: list[str], seed: int, startup_trials: int, resume: bool,
               inputs: dict[str, Any]) -> optuna.Study:
    """A new study, or with `resume` the one in `store`, checked against `inputs` (a search killed before it
    saved one starts afresh). In a study of its own, trials a killed process left running or queued are
    marked failed: their calls are in the LM cache, and a new trial takes their place. In a shared study
    the heartbeat fails them, and other workers may be running theirs."""
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    exists = store is not None and store.exists()
    if exists and not resume:
        raise FileExistsError(f"a search was already started in {store.describe()}: resume it (--resume) or "
                              "choose another study")
    if resume and store is None:
        raise ValueError("resume needs a study path")
    if resume and not exists:
        log.info("no search was saved in %s before it stopped: starting one", store.describe())
    study = optuna.create_study(storage=store.storage() if store else None, sampler=sampler,
                                study_name=store.name if store else None, directions=directions,
                                load_if_exists=resume)
    if exists and INPUTS_ATTR in study.user_attrs:
        _check_inputs(study, inputs, store)
        if not store.shared:
            _fail_stale_trials(study)
    else:  # new, or killed between creating the study and recording what it is for
        study.set_user_attr(INPUTS_ATTR, inputs)
    return study


def join_study(store: StudyStore, *, seed: int, startup_trials: int, inputs: dict[str, Any],
               wait_seconds: float = JOIN_WAIT_SECONDS) -> optuna.Study:
    """The shared study in `store`, once the search that started it has saved its candidates (it may still
    be bootstrapping demos and proposing instructions when a worker joins); checked against `inputs`."""
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        if store.exists():
            study = optuna.load_study(study_name=store.name, storage=store.storage(),
                                      sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials))
            if INPUTS_ATTR in study.user_attrs:
                _check_inputs(study, inputs, store)
            if SPACE_ATTR in study.user_attrs:
                return study
        if time.monotonic() > deadline:
            raise TimeoutError(f"no search saved its candidates in study {store.name!r} of {store.describe()} "
                               f"within {wait_seconds:.0f} s: is its first worker running?")
        if not announced:
            log.warning("waiting for the search %r in %s to save its candidates", store.name, store.describe())
            announced = True
        time.sleep(JOIN_POLL_SECONDS)


def saved_space(study: optuna.Study) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The search space saved in the study, and the instruction proposals it was built from."""
    saved = study.user_attrs.get(SPACE_ATTR)
    return (json.loads(saved), json.loads(study.user_attrs.get(PROPOSED_ATTR) or "{}")) if saved else None


def save_space(study: optuna.Study, space: dict[str, Any], proposed: dict[str, Any]) -> None:
    study.set_user_attr(SPACE_ATTR, json.dumps(space, ensure_ascii=False))
    study.set_user_attr(PROPOSED_ATTR, json.dumps(proposed, ensure_ascii=False))


def finished_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def _check_inputs(study: optuna.Study, inputs: dict[str, Any], store: StudyStore) -> None:
    saved = study.user_attrs.get(INPUTS_ATTR, {})
    differences = [f"{key}: was {saved.get(key)!r}, now {value!r}" for key, value in inputs.items()
                   if saved.get(key) != value]
    if differences:
        raise StudyMismatch(f"the search in {store.describe()} was started with other inputs, so it cannot be "
                            "resumed or joined:\n- "
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
