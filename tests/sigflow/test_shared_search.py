"""`sigflow optimize --storage` and `--join` on the embedded model: three workers, each in its own directory
with its own LM cache as on three machines, on one search in PostgreSQL, logging to one `mlflow server`
backed by PostgreSQL. One worker is SIGKILLed in the middle of a trial."""

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import optuna
import pytest
from optuna.trial import TrialState

from pipelines.optimizers.storage import StudyStore
from tests.reliability.test_shared_search import running_trial_of
from tests.services import create_database, mlflow_server, needs_postgres, postgres_cluster
from tests.sigflow.shared_search_run import SEARCH, command

ROOT = Path(__file__).resolve().parents[2]
SIGFLOW = str(Path(sys.executable).parent / "sigflow")
HEARTBEAT = 2


def _environment(directory: Path, tracking_uri: str) -> dict[str, str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": tracking_uri,
                   "SIGFLOW_CACHE_DIR": str(directory / "cache"), "SIGFLOW_LOCAL_WORKERS": "1"}
    environment.pop("SIGFLOW_ARTIFACT_ROOT", None)  # the tracking server keeps the artifacts
    return environment


@pytest.fixture
def started():
    """The workers a test starts; any still running at its end (a failed test) is killed."""
    workers: list[subprocess.Popen] = []
    yield workers
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def _start(started: list, command: list[str], directory: Path, tracking_uri: str) -> subprocess.Popen:
    """A worker in `directory`; its progress bars go to `stderr.log` there (a pipe nobody reads would fill)."""
    environment = _environment(directory, tracking_uri)
    with open(directory / "stderr.log", "w") as stderr:
        started.append(subprocess.Popen(command, cwd=directory, env=environment, text=True, stdout=subprocess.PIPE,
                                        stderr=stderr))
    return started[-1]


def _finish(worker: subprocess.Popen, directory: Path, timeout: float) -> str:
    """The worker's stdout, once it has ended well."""
    out, _ = worker.communicate(timeout=timeout)
    assert worker.returncode == 0, (directory / "stderr.log").read_text()[-3000:]
    return out


def _join(started: list, run_id: str, storage: str, directory: Path, tracking_uri: str) -> subprocess.Popen:
    return _start(started, [SIGFLOW, "optimize", "--join", run_id, "--storage", storage, "--heartbeat", str(HEARTBEAT),
                   "--threads", "2", "--json"], directory, tracking_uri)


@needs_postgres
@pytest.mark.local_lm
@pytest.mark.timeout(1200)
def test_three_workers_share_a_search_and_its_tracking_server_and_a_killed_one_loses_nothing(tmp_path, started):
    with postgres_cluster() as storage, mlflow_server(create_database(storage, "mlflow"),
                                                      tmp_path / "artifacts") as server:
        for name in ("first", "second", "third"):
            (tmp_path / name).mkdir()
        first = _start(started, command(storage, HEARTBEAT), tmp_path / "first", server)
        announced = first.stdout.readline()
        assert announced.startswith("run "), (tmp_path / "first" / "stderr.log").read_text()[-3000:]
        run_id = announced.split()[1]
        joiners = [_join(started, run_id, storage, tmp_path / name, server) for name in ("second", "third")]
        store = StudyStore(storage, f"sigflow-{run_id}")
        victim, survivor = joiners
        _, killed = running_trial_of(store, victim, timeout=900)
        victim.kill()
        victim.wait()
        first_out = _finish(first, tmp_path / "first", timeout=900)
        survivor_out = _finish(survivor, tmp_path / "third", timeout=300)

        trials = optuna.load_study(study_name=store.name, storage=store.storage()).get_trials(deepcopy=False)
        complete = {trial.number: trial for trial in trials if trial.state == TrialState.COMPLETE}
        kinds = [trial.user_attrs["kind"] for trial in complete.values()]
        assert sum(kind in ("minibatch", "repeat") for kind in kinds) == SEARCH["num_trials"]
        assert [trial.number for trial in trials if trial.state == TrialState.FAIL] == [killed]
        assert [trial.system_attrs.get("failed_trial") for trial in complete.values()].count(killed) == 1
        assert json.loads(first_out.splitlines()[-1])["trials"] == len(complete)
        assert json.loads(survivor_out.splitlines()[-1])["trials"] >= 1

        nested = mlflow.MlflowClient(server).search_runs(
            [mlflow.MlflowClient(server).get_run(run_id).info.experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{run_id}'")
        numbers = sorted(int(run.info.run_name.split()[1]) for run in nested)
        assert numbers == sorted(complete)  # every finished trial once, whichever worker ran it
