"""Runs the scripted MIPRO search of `test_mipro` in a process of its own, slowed down so a test can kill
it halfway: `python -m tests.pipelines.optimizers.mipro_run STUDY [--resume | --join]`, where STUDY is an
SQLite file's path or, for a search shared by several such processes, `URL#NAME` (a study in PostgreSQL or
a journal file, checked for silent workers every `HEARTBEAT_SECONDS`)."""

import os
import sys
import time

from pipelines.optimizers.storage import StudyStore
from tests.pipelines.optimizers.test_mipro import CapitalModel, _compile, _mipro

SECONDS_PER_CALL = float(os.environ.get("MIPRO_RUN_SECONDS_PER_CALL", "0.02"))
HEARTBEAT_SECONDS = 1


class SlowCapitalModel(CapitalModel):
    def __call__(self, messages) -> str:
        time.sleep(SECONDS_PER_CALL)
        return super().__call__(messages)


def study(argument: str) -> str | StudyStore:
    url, _, name = argument.partition("#")
    return StudyStore(url, name, HEARTBEAT_SECONDS) if name else url


if __name__ == "__main__":
    optimizer = _mipro(study=study(sys.argv[1]), resume="--resume" in sys.argv, join="--join" in sys.argv,
                       num_trials=10)
    _compile(optimizer, model=SlowCapitalModel())
    print(f"search trials {sum(t.kind in ('minibatch', 'repeat') for t in optimizer.trials_)}")
    print(f"trials of this worker {optimizer.worker_trials_}")
