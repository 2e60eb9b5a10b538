"""Three processes on one scripted MIPRO search kept in PostgreSQL or in a journal file, each in its own
directory with its own LM cache: every trial is run once, no example of a combination is scored twice, and a
worker killed in the middle of a trial loses nothing (in PostgreSQL the heartbeat fails its trial, and
another worker runs it again)."""

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from optuna.trial import TrialState

from pipelines.optimizers.search import WORKER_ATTR
from pipelines.optimizers.storage import StudyStore
from tests.pipelines.optimizers.test_mipro import SEARCH
from tests.services import create_database, needs_postgres, postgres_cluster

COMMAND = [sys.executable, "-m", "tests.pipelines.optimizers.mipro_run"]
SEARCH_TRIALS = 10  # as mipro_run configures the search
ROOT = Path(__file__).resolve().parents[2]
SLOW_CALL_SECONDS = "0.15"  # long enough trials that the kill lands inside one


def _worker(tmp_path: Path, name: str, target: str, *flags: str) -> subprocess.Popen:
    directory = tmp_path / name
    directory.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "SIGFLOW_CACHE_DIR": str(directory / "cache"),
                   "MIPRO_RUN_SECONDS_PER_CALL": SLOW_CALL_SECONDS}
    return subprocess.Popen([*COMMAND, target, *flags], cwd=directory, env=environment, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def running_trial_of(store: StudyStore, process: subprocess.Popen, timeout: float) -> tuple[optuna.Study, int]:
    """The study in `store`, once it exists, and the number of a trial `process` is running in it."""
    deadline = time.monotonic() + timeout
    study = None
    while time.monotonic() < deadline and process.poll() is None:
        if study is None and store.exists():
            study = optuna.load_study(study_name=store.name, storage=store.storage())
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)) if study else ():
            if trial.user_attrs.get(WORKER_ATTR, "").endswith(f":{process.pid}"):
                return study, trial.number
        time.sleep(0.02 if study else 0.1)
    stopped = "is still running"
    if process.poll() is not None:
        stopped = f"stopped with {process.returncode}: {process.stderr.read()[-2000:] if process.stderr else ''}"
    raise AssertionError(f"worker {process.pid} started no trial within {timeout} s and {stopped}")


def _check_the_search(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The configured trials finished, and no example of a combination was scored twice; the finished trials."""
    trials = study.get_trials(deepcopy=False)
    complete = [trial for trial in trials if trial.state == TrialState.COMPLETE]
    assert {trial.state for trial in trials} <= {TrialState.COMPLETE, TrialState.FAIL}
    kinds = Counter(trial.user_attrs["kind"] for trial in complete)
    assert kinds["minibatch"] + kinds["repeat"] == SEARCH_TRIALS
    scored: dict[str, list[str]] = {}
    for trial in complete:
        scored.setdefault(trial.user_attrs["combination"], []).extend(trial.user_attrs["scored"])
    assert all(len(ids) == len(set(ids)) for ids in scored.values())
    # The anchors and the one full evaluation, scored in minibatch-sized parts, each cover the validation set.
    whole = {kind: {trial.user_attrs["combination"] for trial in complete if trial.user_attrs["kind"] == kind}
             for kind in ("original", "bootstrapped", "full")}
    assert all(len(combinations) == 1 for combinations in whole.values())
    assert all(len(scored[combination]) == SEARCH["val_size"] for (combination,) in whole.values())
    return complete


@pytest.mark.timeout(300)
def test_three_workers_share_one_search_in_a_journal_file(tmp_path):
    journal = tmp_path / "shared" / "search.journal"
    workers = [_worker(tmp_path, "first", f"{journal}#shared"),
               *(_worker(tmp_path, f"joiner{n}", f"{journal}#shared", "--join") for n in (1, 2))]
    outputs = [worker.communicate(timeout=240) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0], [err[-2000:] for _, err in outputs]
    study = optuna.load_study(study_name="shared", storage=StudyStore(str(journal), "shared").storage())
    complete = _check_the_search(study)
    assert len({trial.user_attrs[WORKER_ATTR] for trial in complete}) >= 2  # a slow joiner may find none left


@pytest.mark.timeout(300)
def test_in_a_journal_the_trial_of_a_killed_worker_is_redone_once_it_is_marked_failed(tmp_path):
    journal = tmp_path / "shared" / "search.journal"
    first, victim = (_worker(tmp_path, "first", f"{journal}#shared"),
                     _worker(tmp_path, "joiner", f"{journal}#shared", "--join"))
    study, killed = running_trial_of(StudyStore(str(journal), "shared"), victim, timeout=120)
    victim.kill()
    victim.wait()
    while study.get_trials(deepcopy=False, states=(TrialState.WAITING,)) or len(
            study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))) > 1:
        time.sleep(0.1)  # the first worker's own trials go on; the killed one stays running
    study.tell(killed, state=TrialState.FAIL)
    out, err = first.communicate(timeout=240)
    assert first.returncode == 0, err[-3000:]
    assert f"search trials {SEARCH_TRIALS}" in out
    _check_the_search(study)


@needs_postgres
@pytest.mark.timeout(300)
def test_three_workers_share_one_search_and_a_killed_one_loses_nothing(tmp_path):
    with postgres_cluster() as url:
        target = f"{url}#shared"
        workers = [_worker(tmp_path, "first", target), *(_worker(tmp_path, f"joiner{n}", target, "--join")
                                                          for n in (1, 2))]
        victim = workers[1]
        study, killed_trial = running_trial_of(StudyStore(url, "shared"), victim, timeout=120)
        victim.kill()
        victim.wait()
        outputs = {worker.pid: worker.communicate(timeout=240) for worker in (workers[0], workers[2])}
        for worker in (workers[0], workers[2]):
            assert worker.returncode == 0, outputs[worker.pid][1][-3000:]
        assert f"search trials {SEARCH_TRIALS}" in outputs[workers[0].pid][0]

        complete = _check_the_search(study)
        trials = study.get_trials(deepcopy=False)
        failed = [trial for trial in trials if trial.state == TrialState.FAIL]
        assert [trial.number for trial in failed] == [killed_trial]
        redone = [trial for trial in complete if trial.system_attrs.get("failed_trial") == killed_trial]
        assert len(redone) == 1 and redone[0].params == failed[0].params
        assert not redone[0].user_attrs[WORKER_ATTR].endswith(f":{victim.pid}")
        survivors = {trial.user_attrs[WORKER_ATTR].rpartition(":")[2] for trial in complete}
        assert {str(workers[0].pid), str(workers[2].pid)} <= survivors
        assert all((tmp_path / name / "cache").exists() for name in ("first", "joiner2"))


@needs_postgres
def test_asking_a_shared_store_again_and_again_holds_no_more_connections():
    with postgres_cluster() as url:
        store = StudyStore(url, "polled")
        assert store.storage() is StudyStore(url, "another").storage()  # one pool of connections per database
        optuna.create_study(study_name="polled", storage=store.storage())
        for _ in range(150):  # what a waiting worker does for as long as it waits
            assert store.exists()
            optuna.load_study(study_name="polled", storage=store.storage()).get_trials()
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        with engine.connect() as connection:
            count = connection.execute(sqlalchemy.text("SELECT count(*) FROM pg_stat_activity "
                                                       "WHERE datname = current_database()")).scalar()
        assert count <= 10  # the server allows 100


BUILD_STORAGE_WHEN_TOLD = """
import pathlib, sys, time
from pipelines.optimizers.storage import StudyStore
while not pathlib.Path(sys.argv[2]).exists():
    time.sleep(0.001)
StudyStore(sys.argv[1]).storage()
"""


@needs_postgres
def test_workers_started_together_on_an_empty_database_all_get_its_storage(tmp_path):
    with postgres_cluster() as url:
        for round_ in range(3):  # Optuna's tables are created once per database: a race in a fresh one each round
            database, go = create_database(url, f"fresh{round_}"), tmp_path / f"go{round_}"
            workers = [subprocess.Popen([sys.executable, "-c", BUILD_STORAGE_WHEN_TOLD, database, str(go)],
                                        cwd=ROOT, text=True, stderr=subprocess.PIPE) for _ in range(4)]
            time.sleep(3)  # until each has imported Optuna
            go.touch()
            errors = [worker.communicate(timeout=60)[1] for worker in workers]
            assert [worker.returncode for worker in workers] == [0] * 4, next(filter(None, errors))[-2000:]
