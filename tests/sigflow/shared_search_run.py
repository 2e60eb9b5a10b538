"""The first worker of a search shared in PostgreSQL: the job `sigflow optimize --storage` runs, on a
search of a chosen size (the command's presets are larger than a test or a benchmark wants). It prints
`run RUN_ID` as soon as the run exists, then the summary as JSON:
`python -m tests.sigflow.shared_search_run STORAGE HEARTBEAT_SECONDS TRAIN SEARCH_JSON`."""

import json
import sys
from pathlib import Path

from pipelines.lm.client import LM
from sigflow.jobs.optimize import OptimizeRequest, optimize_program

SEARCH = {"num_candidates": 2, "num_trials": 4, "minibatch_size": 2, "val_size": 6, "num_full_evals": 1,
          "max_bootstrapped_demos": 1, "max_labeled_demos": 1, "search_nearest_demos": False}
"""The test's search: small, on classify."""
TRAIN = 8


def command(storage: str, heartbeat_seconds: int, train: int = TRAIN, search: dict | None = None) -> list[str]:
    return [sys.executable, "-m", "tests.sigflow.shared_search_run", storage, str(heartbeat_seconds), str(train),
            json.dumps(search or SEARCH)]


if __name__ == "__main__":
    storage, heartbeat, train, search = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
    request = OptimizeRequest("classify", "mipro", train=train, val=search["val_size"], num_threads=2, search=search,
                              storage=storage, heartbeat_seconds=heartbeat)
    report = optimize_program(request, lm=LM(), studies_dir=Path("studies"),
                              on_run=lambda run_id: print(f"run {run_id}", flush=True))
    print(json.dumps(report.summary(), default=str))
