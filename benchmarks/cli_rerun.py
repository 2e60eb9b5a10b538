"""`sigflow evaluate classify --limit 20 --json`, run twice as a user would (fresh LM cache, a temporary
MLflow store): the second run is answered from the cache with zero LM calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def run(quick: bool) -> dict[str, Any]:
    limit = "3" if quick else "20"
    sigflow = str(Path(sys.executable).with_name("sigflow"))
    with tempfile.TemporaryDirectory() as directory:
        environment = {**os.environ, "SIGFLOW_CACHE_DIR": str(Path(directory, "cache")),
                       "MLFLOW_TRACKING_URI": f"sqlite:///{Path(directory, 'mlflow.db')}",
                       "SIGFLOW_ARTIFACT_ROOT": str(Path(directory, "artifacts"))}
        runs = []
        for _ in range(2):
            finished = subprocess.run([sigflow, "evaluate", "classify", "--limit", limit, "--json"], cwd=directory,
                                      env=environment, capture_output=True, text=True, check=True)
            runs.append(json.loads(finished.stdout.splitlines()[-1]))
    keys = ("score", "n", "lm_calls", "cache_hits", "prompt_tokens", "completion_tokens", "seconds")
    return {"first": {key: runs[0][key] for key in keys}, "second": {key: runs[1][key] for key in keys}}


def report(result: dict[str, Any]) -> str:
    rows = [f"| {name} | {r['n']} | {r['score']:.3f} | {r['lm_calls']} | {r['cache_hits']} | "
            f"{r['prompt_tokens']} + {r['completion_tokens']} | {r['seconds']:.1f} |"
            for name, r in result.items()]
    return "\n".join(["| run | examples | accuracy | LM calls | cache hits | tokens | seconds |",
                      "|---|---:|---:|---:|---:|---:|---:|", *rows])
