"""`sigflow evaluate|optimize|predict FILE.py:Class` on the user's own files, as a user runs it: every mistake
in the data, the metric or the target is one line and exit status 2 with nothing logged; a provider that
fails every example is exit 1 with its message and no score; optimize, register, promote and serve answer."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
import requests

from serving.endpoint import free_port

SIGFLOW = str(Path(sys.executable).with_name("sigflow"))
PROGRAMS = Path(__file__).parents[2] / "fixtures" / "user_programs"
TICKETS = Path(__file__).parents[3] / "pipelines" / "datasets" / "data" / "tickets.jsonl"


def sigflow(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([SIGFLOW, *args], capture_output=True, text=True, timeout=900, cwd=cwd, env=env)


def _rows(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture
def project(tmp_path) -> Path:
    """The user's directory: the router, the module it imports, data files good and bad, a metric file."""
    shutil.copytree(PROGRAMS, tmp_path, dirs_exist_ok=True)
    tickets = [json.loads(line) for line in TICKETS.read_text().splitlines()]
    _rows(tmp_path / "train.jsonl", tickets[:4])
    _rows(tmp_path / "dev.jsonl", tickets[32:36])
    _rows(tmp_path / "renamed.jsonl", [{"text": row["ticket"], "team": row["team"]} for row in tickets[:2]])
    _rows(tmp_path / "blank.jsonl", [tickets[0], {**tickets[1], "ticket": "  "}])
    (tmp_path / "garbled.jsonl").write_text('{"ticket": "unfinished\n')
    (tmp_path / "notes.txt").write_text("ticket,team\n")
    (tmp_path / "broken.py").write_text("class Router(:\n")
    (tmp_path / "two_inputs.py").write_text(
        "import sigflow\n\n\nclass Pair(sigflow.Module):\n    def __init__(self):\n"
        "        self.route = sigflow.Predict('ticket, product -> team')\n\n"
        "    def forward(self, ticket: str, product: str):\n"
        "        return self.route(ticket=ticket, product=product)\n")
    _rows(tmp_path / "pairs.jsonl", [{**row, "product": "notes"} for row in tickets[:4]])
    (tmp_path / "metrics.py").write_text("def same_team(example, prediction):\n"
                                         "    return example['team'] == prediction['team']\n")
    return tmp_path


EVALUATE = ("evaluate", "ticket_router.py:Router", "--metric", "accuracy:team")


@pytest.mark.parametrize(("args", "message"), [
    (EVALUATE, "error: give your examples: --data FILE to evaluate"),
    ((*EVALUATE, "--data", "missing.jsonl"), "error: no such data file: missing.jsonl"),
    ((*EVALUATE, "--data", "garbled.jsonl"), "error: cannot read garbled.jsonl as JSONL: ValueError"),
    ((*EVALUATE, "--data", "notes.txt"), "error: notes.txt: data files are .jsonl, .csv, .parquet, not .txt"),
    ((*EVALUATE, "--data", "renamed.jsonl"), "error: renamed.jsonl has no column ticket (the program's inputs "
                                             "are ticket; labels: team); its columns are text, team"),
    ((*EVALUATE, "--data", "blank.jsonl"), "error: blank.jsonl row 2: the input 'ticket' is empty"),
    (("evaluate", "ticket_router.py:Router", "--metric", "accuracy:department", "--data", "dev.jsonl"),
     "error: metric 'accuracy:department' compares the field 'department', which is no output of the program; "
     "its outputs are summary, team"),
    (("evaluate", "ticket_router.py:Router", "--metric", "metrics.py:nothing", "--data", "dev.jsonl"),
     "error: metrics.py defines no 'nothing'"),
    (("evaluate", "ticket_router.py:Router", "--data", "dev.jsonl"), "error: ticket_router.py:Router needs --metric"),
    (("evaluate", "broken.py:Router", "--metric", "accuracy:team", "--data", "dev.jsonl"),
     "error: cannot import broken.py: SyntaxError"),
    (("evaluate", "nowhere.py:Router", "--metric", "accuracy:team", "--data", "dev.jsonl"),
     "error: no such file: nowhere.py"),
    (("evaluate", "ticket_teams.py:Team", "--metric", "accuracy:team", "--data", "dev.jsonl"),
     "error: ticket_teams.py:Team is a _LiteralGenericAlias, not a sigflow Module class"),
    (("evaluate", "no_such_package.module:Router", "--metric", "accuracy:team", "--data", "dev.jsonl"),
     "error: cannot import no_such_package.module: No module named 'no_such_package'"),
    (("optimize", "ticket_router.py:Router", "--optimizer", "bootstrap", "--metric", "accuracy:team",
      "--train", "train.jsonl"), "error: give --train FILE and --val FILE"),
    (("optimize", "two_inputs.py:Pair", "--optimizer", "bootstrap", "--metric", "accuracy:team", "--train",
      "pairs.jsonl", "--val", "pairs.jsonl", "--register", "pair", "--chat"),
     "error: Pair takes the inputs ticket, product: the chat form serves programs of exactly one input"),
    (("predict", "ticket_router.py:Router", "--input", "text=hello"),
     "error: ticket_router.py:Router takes the inputs ticket; missing: ticket, unknown: text"),
])
def test_every_bad_target_metric_or_data_file_is_one_line_exit_2_and_logs_nothing(project, args, message):
    finished = sigflow(*args, cwd=project)
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.strip().startswith(message), finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1 and "Traceback" not in finished.stderr
    assert mlflow.search_runs(search_all_experiments=True).empty


def test_a_provider_that_fails_every_example_is_exit_1_with_its_message_and_no_score(tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI")}
    finished = sigflow("evaluate", "classify", "--limit", "3", "--lm", "openai/gpt-4o-mini", cwd=tmp_path,
                       env=environment)
    assert finished.returncode == 1 and "Traceback" not in finished.stderr
    assert "every one of the 3 examples failed, so there is no score" in finished.stderr
    assert "OPENAI_API_KEY" in finished.stderr  # the provider's own message
    assert mlflow.search_runs(search_all_experiments=True).empty


@pytest.mark.local_lm
def test_your_program_is_evaluated_with_your_metric_rescored_without_lm_calls_and_run_once(project):
    finished = sigflow("evaluate", "ticket_router.py:Router", "--data", "dev.jsonl", "--metric", "accuracy:team",
                       "--metric", "metrics.py:same_team", "--json", cwd=project)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout.splitlines()[-1])
    assert summary["n"] == 4 and summary["split"] == "dev.jsonl" and summary["dataset"].startswith("dev.jsonl#")
    assert summary["metrics"]["same_team"] == summary["metrics"]["accuracy:team"] == summary["score"]
    rescored = sigflow("rescore", summary["run_id"], "--metric", "exact_match:summary", "--json", cwd=project)
    assert rescored.returncode == 0, rescored.stderr
    assert json.loads(rescored.stdout.splitlines()[-1])["lm_calls"] == 0
    predicted = sigflow("predict", "ticket_router.py:Router", "I was charged twice this month, please refund one "
                        "charge.", "--json", cwd=project)
    assert predicted.returncode == 0, predicted.stderr
    outputs = json.loads(predicted.stdout.splitlines()[-1])["outputs"]
    assert outputs["team"] in {"billing", "technical", "account", "feedback"} and outputs["summary"].strip()


@pytest.mark.local_lm
def test_optimize_register_promote_and_serve_your_program_from_the_command_line(project, tmp_path_factory):
    finished = sigflow("optimize", "ticket_router.py:Router", "--train", "train.jsonl", "--val", "dev.jsonl",
                       "--metric", "accuracy:team", "--optimizer", "bootstrap", "--register", "router", "--json",
                       cwd=project)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout.splitlines()[-1])
    assert summary["model_uri"] == "models:/router/1" and summary["train"] == 4 and summary["n"] == 4
    run = mlflow.get_run(summary["run_id"])
    assert run.data.params["program"] == "ticket_router.py:Router" and "accuracy:team" in run.data.metrics
    assert sigflow("promote", "router", "1", cwd=project).returncode == 0
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    server = subprocess.Popen([SIGFLOW, "serve", "router@champion", "--port", str(port)], cwd=elsewhere,
                              env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        response = _post_when_up(f"http://127.0.0.1:{port}/invocations",
                                 {"dataframe_records": [{"ticket": "The app crashes whenever I open a notebook."}]})
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert response.status_code == 200, response.text
    [answer] = response.json()["predictions"]
    assert answer["error"] == "" and answer["team"] in {"billing", "technical", "account", "feedback"}
    assert answer["summary"].strip()


def _post_when_up(url: str, body: dict, seconds: float = 180) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return requests.post(url, json=body, timeout=300)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
