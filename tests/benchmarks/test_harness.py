import json
import os
from pathlib import Path

import pytest

from benchmarks import harness
from pipelines import settings
from tests.benchmarks import counting_benchmark


@pytest.fixture
def results_dir(tmp_path, monkeypatch):
    """The harness writes into a temporary results directory, and knows the counting benchmark."""
    results = tmp_path / "results"
    monkeypatch.setattr(harness, "RESULTS_DIR", results)
    monkeypatch.setattr(harness, "PARTIAL_DIR", results / "partial")
    monkeypatch.setattr(harness, "QUICK_RESULTS", results / "quick.json")
    monkeypatch.setattr(harness, "RESULTS_MD", tmp_path / "RESULTS.md")
    monkeypatch.setitem(harness.BENCHMARKS, "counting", "tests.benchmarks.counting_benchmark")
    counting_benchmark.RUNS.clear()
    return results


def test_a_full_run_stores_its_result_with_the_machine_and_rebuilds_results_md(results_dir, capsys):
    (results_dir / "partial" / "counting").mkdir(parents=True)
    harness.run(["counting"], quick=False)
    stored = json.loads((results_dir / "counting.json").read_text())
    assert stored["result"] == {"runs": 1} and stored["quick"] is False
    assert stored["machine"]["cores"] >= 1 and "mlflow" in stored["machine"]["packages"]
    assert not (results_dir / "partial" / "counting").exists()
    markdown = harness.RESULTS_MD.read_text()
    assert "## counting" in markdown and "ran 1 time(s)" in markdown
    assert "python -m benchmarks run counting" in markdown
    assert "ran 1 time(s)" in capsys.readouterr().out


def test_a_quick_run_stores_only_its_duration_and_lists_it_in_results_md(results_dir):
    harness.run(["counting", "door_overhead"], quick=True)
    assert counting_benchmark.RUNS == [True]
    assert not (results_dir / "counting.json").exists() and not (results_dir / "door_overhead.json").exists()
    durations = json.loads((results_dir / "quick.json").read_text())
    assert set(durations) == {"counting", "door_overhead"}
    assert 0 < durations["door_overhead"]["seconds"] < harness.QUICK_LIMIT_SECONDS
    markdown = harness.RESULTS_MD.read_text()
    assert "## Quick mode" in markdown and "| door_overhead |" in markdown


def test_a_quick_run_over_the_limit_says_so(results_dir, monkeypatch, capsys):
    monkeypatch.setattr(harness, "QUICK_LIMIT_SECONDS", -1)
    harness.run(["counting"], quick=True)
    assert "counting: the quick run took" in capsys.readouterr().out


def test_an_unknown_benchmark_is_named_in_the_error(results_dir):
    with pytest.raises(SystemExit, match=r"unknown benchmark.*nonesuch"):
        harness.run(["counting", "nonesuch"], quick=True)
    assert counting_benchmark.RUNS == []


def test_a_checkpointed_part_is_reused_only_with_the_same_settings(results_dir):
    measured = []

    def measure():
        measured.append(True)
        return {"value": len(measured)}

    first = harness.checkpointed("counting", "part", {"n": 1}, measure, quick=False)
    again = harness.checkpointed("counting", "part", {"n": 1}, measure, quick=False)
    changed = harness.checkpointed("counting", "part", {"n": 2}, measure, quick=False)
    assert (first, again, changed) == ({"value": 1}, {"value": 1}, {"value": 2})
    assert harness.checkpointed("counting", "part", {"n": 2}, measure, quick=True) == {"value": 3}


def test_a_fresh_cache_empties_the_answers_but_keeps_the_models(monkeypatch):
    monkeypatch.delenv("SIGFLOW_MODEL_DIR")
    models, cache = settings.model_dir(), settings.cache_dir()
    with harness.fresh_cache_dir() as directory:
        assert settings.cache_dir() == Path(directory) != cache
        assert settings.model_dir() == models
    assert (settings.cache_dir(), settings.model_dir()) == (cache, models)
    assert "SIGFLOW_MODEL_DIR" not in os.environ
