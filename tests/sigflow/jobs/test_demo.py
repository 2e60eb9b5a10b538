"""`sigflow demo --quick`: the whole story on the embedded model, twice; the second run from the caches."""

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from sigflow.jobs.demo import MODEL_NAMES

SIGFLOW = str(Path(sys.executable).with_name("sigflow"))


def _demo(cwd: Path) -> dict:
    finished = subprocess.run([SIGFLOW, "demo", "--quick", "--json"], capture_output=True, text=True, timeout=900,
                              cwd=cwd)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.splitlines()[-1])


@pytest.mark.local_lm
def test_demo_optimizes_publishes_serves_and_reruns_from_the_cache(tmp_path):
    first = _demo(tmp_path)
    rows = {row["program"]: row for row in first["rows"]}
    assert set(rows) == {"classify", "rag"}
    for name, row in rows.items():
        assert row["optimized"] >= row["baseline"], row
        assert row["lm_calls"] > 0 and row["model_uri"] == f"models:/{MODEL_NAMES[name]}@champion"
        trials = mlflow.search_runs(search_all_experiments=True, output_format="list",
                                    filter_string=f"tags.mlflow.parentRunId = '{row['run_id']}'")
        assert trials, f"the {name} optimization has no nested trial runs"
    assert first["answer"]["answer"] and first["answer"]["passage_ids"] and not first["answer"]["error"]
    assert first["answer"]["url"].startswith("http://127.0.0.1:")

    second = _demo(tmp_path)
    assert [row["lm_calls"] for row in second["rows"]] == [0, 0]
    assert [row["optimized"] for row in second["rows"]] == [row["optimized"] for row in first["rows"]]
    assert second["answer"]["answer"] == first["answer"]["answer"]
    client = mlflow.MlflowClient()
    for name in MODEL_NAMES.values():
        assert str(client.get_model_version_by_alias(name, "champion").version) == "2"
