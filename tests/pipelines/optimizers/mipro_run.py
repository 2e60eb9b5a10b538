"""Runs the scripted MIPRO search of `test_mipro` in a process of its own, slowed down so a test can kill
it halfway: `python -m tests.pipelines.optimizers.mipro_run STUDY_PATH [--resume]`."""

import sys
import time

from tests.pipelines.optimizers.test_mipro import CapitalModel, _compile, _mipro

SECONDS_PER_CALL = 0.02


class SlowCapitalModel(CapitalModel):
    def __call__(self, messages) -> str:
        time.sleep(SECONDS_PER_CALL)
        return super().__call__(messages)


if __name__ == "__main__":
    optimizer = _mipro(study=sys.argv[1], resume="--resume" in sys.argv, num_trials=10)
    _compile(optimizer, model=SlowCapitalModel())
    print(f"search trials {sum(t.kind in ('minibatch', 'repeat') for t in optimizer.trials_)}")
