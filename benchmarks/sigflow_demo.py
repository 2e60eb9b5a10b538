"""`sigflow demo` run twice as a newcomer would after `make setup`: nothing cached (no LM replies, no
embeddings, no index, the embedded model not yet assembled), a fresh MLflow store; then again, from the
caches. Wall time of each run and of its steps, the scores it reports, and its LM calls. The quick mode runs
`sigflow demo --quick` twice: the one quick run over a minute (about five), as the demo cannot be smaller
than indexing, optimizing two programs, publishing them and serving one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LIMIT_SECONDS = 15 * 60


def run(quick: bool) -> dict[str, Any]:
    sigflow = str(Path(sys.executable).with_name("sigflow"))
    command = [sigflow, "demo", "--json", *(["--quick"] if quick else [])]
    with tempfile.TemporaryDirectory() as directory:
        environment = {key: value for key, value in os.environ.items()
                       if key not in ("SIGFLOW_MODEL_DIR", "MLFLOW_TRACKING_URI", "SIGFLOW_ARTIFACT_ROOT")}
        environment["SIGFLOW_CACHE_DIR"] = str(Path(directory, "cache"))
        runs = []
        for _ in range(2):
            started = time.perf_counter()
            finished = subprocess.run(command, cwd=directory, env=environment, capture_output=True, text=True,
                                      check=True)
            reported = json.loads(finished.stdout.splitlines()[-1])
            runs.append({"wall_seconds": time.perf_counter() - started, "steps": reported["steps"],
                         "rows": reported["rows"], "answer": reported["answer"]})
    return {"quick": quick, "first": runs[0], "second": runs[1]}


def report(result: dict[str, Any]) -> str:
    first, second = result["first"], result["second"]
    steps = [f"| {step} | {first['steps'][step]:.0f} | {second['steps'][step]:.0f} |" for step in first["steps"]]
    rows = [f"| {row['program']} | {row['dataset']} | {row['metric']} | {row['n']} | {row['baseline']:.3f} | "
            f"{row['optimized']:.3f} | {row['lm_calls']} | {again['lm_calls']} |"
            for row, again in zip(first["rows"], second["rows"], strict=True)]
    ratio = second["wall_seconds"] / first["wall_seconds"]
    verdict = "within" if first["wall_seconds"] <= LIMIT_SECONDS else "over"
    return "\n".join([
        "| step | first run s | second run s |", "|---|---:|---:|", *steps,
        f"| **whole command** (wall) | **{first['wall_seconds']:.0f}** | **{second['wall_seconds']:.0f}** |", "",
        f"The first run is {verdict} the 15-minute limit; the second takes {ratio:.2f} of the first.", "",
        "| program | dataset | metric | validation examples | baseline | optimized | LM calls, first run | "
        "LM calls, second run |", "|---|---|---|---:|---:|---:|---:|---:|", *rows, "",
        f"The served RAG champion answered \"{first['answer']['question']}\" with "
        f"\"{first['answer']['answer']}\" in {first['answer']['seconds']:.1f} s (first run) and "
        f"{second['answer']['seconds']:.1f} s (second run).",
    ])
