"""The first worker of the search `test_shared_search` shares: the job `sigflow optimize --storage` runs, on a
search small enough for a test (the command's presets are larger). It prints `run RUN_ID` as soon as the run
exists, then the summary as JSON: `python -m tests.sigflow.shared_search_run STORAGE HEARTBEAT_SECONDS`."""

import json
import sys
from pathlib import Path

from pipelines.lm.client import LM
from sigflow.jobs.optimize import OptimizeRequest, optimize_program

SEARCH = {"num_candidates": 2, "num_trials": 4, "minibatch_size": 2, "val_size": 6, "num_full_evals": 1,
          "max_bootstrapped_demos": 1, "max_labeled_demos": 1, "search_nearest_demos": False}

if __name__ == "__main__":
    request = OptimizeRequest("classify", "mipro", train=8, val=6, num_threads=2, search=SEARCH, storage=sys.argv[1],
                              heartbeat_seconds=int(sys.argv[2]))
    report = optimize_program(request, lm=LM(), studies_dir=Path("studies"),
                              on_run=lambda run_id: print(f"run {run_id}", flush=True))
    print(json.dumps(report.summary(), default=str))
