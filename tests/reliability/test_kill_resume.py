"""A search killed with SIGKILL at random moments (while bootstrapping, proposing, in a trial or between
trials) and resumed each time finishes with every trial accounted for and no example scored twice."""

import random
import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from pipelines.optimizers.storage import StudyStore

COMMAND = [sys.executable, "-m", "tests.pipelines.optimizers.mipro_run"]
SEARCH_TRIALS = 10  # as mipro_run configures the search
UNKILLED_SECONDS = 6.0  # about how long the whole run takes here, imports included; kills land within it


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_search_killed_at_random_moments_resumes_to_completion(tmp_path, seed):
    path = tmp_path / "study.db"
    rng = random.Random(seed)
    for attempt, delay in enumerate(rng.uniform(0.3, UNKILLED_SECONDS) for _ in range(2)):
        process = subprocess.Popen([*COMMAND, str(path), *(["--resume"] if attempt else [])],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if process.poll() is not None:
            break
        process.send_signal(signal.SIGKILL)
        process.wait()
    finished = subprocess.run([*COMMAND, str(path), "--resume"], capture_output=True, text=True, timeout=180)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert f"search trials {SEARCH_TRIALS}" in finished.stdout

    trials = optuna.load_study(study_name="sigflow", storage=StudyStore.local(path).storage()).trials
    complete = [trial for trial in trials if trial.state == TrialState.COMPLETE]
    assert all(trial.state in (TrialState.COMPLETE, TrialState.FAIL) for trial in trials)
    assert sum(trial.user_attrs["kind"] in ("minibatch", "repeat") for trial in complete) == SEARCH_TRIALS
    assert [trial.user_attrs["kind"] for trial in complete].count("original") == 1
    scored: dict[str, list[str]] = {}
    for trial in complete:
        scored.setdefault(trial.user_attrs["combination"], []).extend(trial.user_attrs["scored"])
    assert all(len(ids) == len(set(ids)) for ids in scored.values())
