"""The `sigflow` command as a user runs it: a real process, real exit codes."""

import json
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest

from pipelines import ScriptedLM
from sigflow.cli import main

SIGFLOW = str(Path(sys.executable).with_name("sigflow"))


def sigflow(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([SIGFLOW, *args], capture_output=True, text=True, timeout=600, cwd=cwd)


@pytest.mark.parametrize(("args", "message"), [
    (("evaluate", "summarize"), "error: unknown program 'summarize'; choose one of classify, rag"),
    (("evaluate", "classify", "--dataset", "imagenet"), "error: program 'classify' runs on trec, not 'imagenet'"),
    (("evaluate", "rag", "--dataset", "hotpotqa"), "error: the hotpotqa dataset needs --data-dir"),
    (("evaluate", "rag", "--dataset", "hotpotqa", "--data-dir", "/no/such/dir"), "error: /no/such/dir lacks"),
    (("predict", "classify", "  "), "error: the input 'question' is empty"),
    (("optimize", "classify", "--optimizer", "bootstrap", "--resume"), "error: --resume continues a mipro search"),
    (("optimize", "classify", "--optimizer", "mipro", "--objectives", "quality,money"),
     "error: objectives must be 'quality' followed by any of tokens, latency; got quality, money"),
    (("optimize", "classify", "--optimizer", "mipro", "--resume"),
     "error: no interrupted mipro optimization of classify on trec to resume"),
    (("serve", "nope@champion"), "error: no version of registered model 'nope' has the alias 'champion'"),
    (("optimize",), "error: give TARGET and --optimizer (or --join RUN_ID"),
    (("optimize", "classify", "--optimizer", "bootstrap", "--storage", "search.journal"),
     "error: --storage shares a mipro search with other workers; give --optimizer mipro"),
    (("optimize", "--join", "0123"), "error: --join needs --storage"),
    (("optimize", "classify", "--optimizer", "mipro", "--join", "0123", "--storage", "search.journal"),
     "error: a worker joining a search runs that search as it was started: drop TARGET, --optimizer"),
    (("optimize", "--join", "0123", "--storage", "search.journal"), "error: no MLflow run '0123'"),
    (("batch", "models:/classify/1", "questions.csv", "answers.txt"), "error: answers.txt: name a Parquet or CSV"),
])
def test_user_mistakes_exit_2_with_one_line(tmp_path, args, message):
    finished = sigflow(*args, cwd=tmp_path)
    assert finished.returncode == 2
    assert finished.stderr.strip().startswith(message)
    assert len(finished.stderr.strip().splitlines()) == 1 and "Traceback" not in finished.stderr


def test_optimize_dry_run_prints_the_estimate_and_makes_no_run(tmp_path):
    finished = sigflow("optimize", "classify", "--optimizer", "mipro", "--val", "50", "--dry-run", "--json",
                       cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    estimate = json.loads(finished.stdout.splitlines()[-1])
    assert estimate["dry_run"] is True and estimate["evaluation_lm_calls"] == 100
    assert 0 < estimate["optimizer_lm_calls"] <= 335 and "estimated at most" in finished.stdout
    assert not (tmp_path / "mlruns").exists()


@pytest.mark.local_lm
def test_evaluate_twice_the_second_run_makes_no_lm_call(tmp_path):
    first = json.loads(sigflow("evaluate", "classify", "--limit", "3", "--json", cwd=tmp_path).stdout.splitlines()[-1])
    second = json.loads(sigflow("evaluate", "classify", "--limit", "3", "--json", cwd=tmp_path).stdout.splitlines()[-1])
    assert first["n"] == 3 and first["lm_calls"] == 3 + first["parse_retries"] and 0 <= first["score"] <= 1
    assert second["lm_calls"] == 0 and second["cache_hits"] == first["lm_calls"]
    assert second["score"] == first["score"]
    for key in ("metric", "prompt_tokens", "completion_tokens", "seconds", "run_id"):
        assert key in second
    run = mlflow.get_run(first["run_id"])
    assert run.data.params["program"] == "classify" and run.data.metrics["lm_calls"] == first["lm_calls"]
    artifacts = {item.path for item in mlflow.MlflowClient().list_artifacts(first["run_id"])}
    assert {"evaluation.json", "predictions.json"} <= artifacts


@pytest.mark.local_lm
def test_predict_prints_the_label(tmp_path):
    finished = sigflow("predict", "classify", "Who wrote Hamlet?", "--json", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout.splitlines()[-1])["outputs"]["label"] == "human"


@pytest.mark.local_lm
def test_serve_runs_the_champion_on_loopback_and_says_where(tmp_path):
    import requests

    from pipelines import LM
    from pipelines.programs import Classify
    from serving.endpoint import free_port
    from serving.publish import publish
    from serving.registry import promote

    version = publish(Classify(), lm=LM(), name="cli-classifier",
                      scores={"dataset": "trec", "metric": "accuracy", "score": 0.5, "optimizer": "none"})
    promote("cli-classifier", version.version)
    port = free_port()
    process = subprocess.Popen([SIGFLOW, "serve", "cli-classifier", "--port", str(port)], cwd=tmp_path,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == (f"serving models:/cli-classifier@champion at "
                                                     f"http://127.0.0.1:{port}/invocations (Ctrl-C stops)")
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                response = requests.post(f"http://127.0.0.1:{port}/invocations", timeout=120,
                                         json={"dataframe_records": [{"question": "Who wrote Hamlet?"}]})
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert response.status_code == 200 and response.json()["predictions"][0]["label"] == "human"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_models_lists_versions_and_promote_refuses_a_worse_one_with_both_scores(tmp_path):
    from pipelines import ScriptedLM
    from pipelines.programs import Classify
    from serving.publish import publish

    with ScriptedLM(responder=lambda messages: "label: human") as fake:
        for score in (0.6, 0.4):
            publish(Classify(), lm=fake.lm(), name="ranked",
                    scores={"dataset": "trec", "metric": "accuracy", "score": score, "optimizer": "mipro"})
    assert sigflow("promote", "ranked", "1", cwd=tmp_path).returncode == 0
    refused = sigflow("promote", "ranked", "2", cwd=tmp_path)
    assert refused.returncode == 2
    assert "accuracy 0.4000 is below the holder's (version 1) 0.6000" in refused.stderr
    listed = json.loads(sigflow("models", "ranked", "--json", cwd=tmp_path).stdout.splitlines()[-1])
    assert [(v["version"], v["score"], v["aliases"]) for v in listed["versions"]] == [("2", 0.4, []),
                                                                                    ("1", 0.6, ["champion"])]


def test_ui_shows_the_store_the_other_commands_write(tmp_path):
    import requests

    from serving import tracking
    from serving.endpoint import free_port

    with tracking.run("a run to find", {"program": "classify"}):
        pass
    port = free_port()
    process = subprocess.Popen([SIGFLOW, "ui", "--port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == f"the MLflow UI at http://127.0.0.1:{port} (Ctrl-C stops)"
        deadline, found = time.monotonic() + 120, None
        while found is None and time.monotonic() < deadline:
            try:
                found = requests.post(f"http://127.0.0.1:{port}/ajax-api/2.0/mlflow/runs/search", timeout=30,
                                      json={"experiment_ids": [mlflow.get_experiment_by_name("sigflow").experiment_id]})
            except requests.ConnectionError:
                time.sleep(0.5)
        assert found is not None and found.status_code == 200
        assert [run["info"]["run_name"] for run in found.json()["runs"]] == ["a run to find"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_an_unreadable_model_reply_is_exit_1_and_names_the_reply(capsys, monkeypatch):
    for name in ("MLFLOW_LOGGING_LEVEL", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"):  # main sets them; undone after
        monkeypatch.setenv(name, "false" if "BAR" in name else "WARNING")
    with ScriptedLM(responder=lambda messages: "no label here") as fake, pytest.raises(SystemExit) as stopped:
        main(["predict", "classify", "Who wrote Hamlet?", "--lm", fake.model])
    assert stopped.value.code == 1
    assert capsys.readouterr().err.startswith("the model's reply could not be read:")
