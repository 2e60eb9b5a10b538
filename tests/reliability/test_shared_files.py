"""Four processes at once write and read one LM cache and one Optuna study (both SQLite): no error, no
corruption, no lost entry or trial."""

import multiprocessing
from pathlib import Path

import optuna
from optuna.trial import TrialState

from pipelines.lm.cache import Cache
from pipelines.optimizers.storage import StudyStore

PROCESSES = 4
ROUNDS = 40


def _work(directory: str, process: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cache = Cache(Path(directory, "cache.sqlite3"))
    study = optuna.load_study(study_name="shared", storage=StudyStore.local(Path(directory, "study.db")).storage())
    for index in range(ROUNDS):
        cache.put(f"{process}-{index}", "m", {"text": f"{process}-{index}", "usage": [index] * 20})
        assert cache.get(f"{process}-{index}")["text"] == f"{process}-{index}"
        cache.get(f"{(process + 1) % PROCESSES}-{index}")  # another process's entry, present or not yet
        trial = study.ask()
        choice = trial.suggest_categorical("choice", [0, 1, 2, 3])
        trial.set_user_attr("written_by", f"{process}-{index}")
        study.tell(trial, float(choice + process))
        assert len(study.get_trials(deepcopy=False)) >= index + 1


def test_four_processes_share_one_cache_and_one_study(tmp_path):
    optuna.create_study(study_name="shared", storage=StudyStore.local(tmp_path / "study.db").storage())
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_work, args=(str(tmp_path), process)) for process in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0, "a process failed: see its traceback above"

    cache = Cache(tmp_path / "cache.sqlite3")
    assert len(cache) == PROCESSES * ROUNDS
    assert all(cache.get(f"{p}-{i}") == {"text": f"{p}-{i}", "usage": [i] * 20}
               for p in range(PROCESSES) for i in range(ROUNDS))
    trials = optuna.load_study(study_name="shared", storage=StudyStore.local(tmp_path / "study.db").storage()).trials
    assert len(trials) == PROCESSES * ROUNDS and all(trial.state == TrialState.COMPLETE for trial in trials)
    written = sorted(trial.user_attrs["written_by"] for trial in trials)
    assert written == sorted(f"{p}-{i}" for p in range(PROCESSES) for i in range(ROUNDS))
    for trial in trials:
        process = int(trial.user_attrs["written_by"].split("-")[0])
        assert trial.value == trial.params["choice"] + process
    assert len({trial.number for trial in trials}) == len(trials)
