"""The user's own programs published and served by a real `mlflow models serve`, with the embedded model: a
class from a script's `__main__`, from the user's file (with the module it imports), and with two `Retrieve`
steps over two stores. Each user file lives in a directory of its own; every server runs in an empty
directory without `PYTHONPATH`. A model that cannot load is not registered."""

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
import requests

from pipelines import LM
from pipelines.datasets import load_dataset
from pipelines.retrieval import Passage, VectorStore
from serving.endpoint import running_server
from serving.load_check import LoadCheckFailed
from serving.publish import publish
from serving.registry import promote, versions
from serving.user_code import CodeWalk
from sigflow.jobs.targets import import_object

pytestmark = pytest.mark.local_lm
PROGRAMS = Path(__file__).parents[1] / "fixtures" / "user_programs"
TEAMS = {"billing", "technical", "account", "feedback"}
TICKETS = Path(__file__).parents[2] / "pipelines" / "datasets" / "data" / "tickets.jsonl"
TICKET = "I was charged twice for my subscription this month, please refund one of the charges."


@pytest.fixture
def user_dir(tmp_path, monkeypatch) -> Iterator[Path]:
    """A directory of the user's own, outside the repository; its modules are forgotten after the test."""
    directory = tmp_path / "user"
    shutil.copytree(PROGRAMS, directory)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield directory
    for name in [name for name, module in sys.modules.items()
                 if str(getattr(module, "__file__", None) or "").startswith(str(directory))]:
        del sys.modules[name]


def _answers(name: str, rows: list[dict]) -> list[dict]:
    promote(name, versions(name)[0].version)
    with running_server(f"models:/{name}@champion") as server:
        response = requests.post(server.invocations, json={"dataframe_records": rows}, timeout=300)
    assert response.status_code == 200, response.text
    return response.json()["predictions"]


def test_a_class_declared_in_a_scripts_main_is_published_with_the_user_module_it_imports_and_served(user_dir):
    published = subprocess.run([sys.executable, "router_script.py", "script-router"], cwd=user_dir,
                               capture_output=True, text=True, timeout=900)
    assert published.returncode == 0, published.stderr
    version = versions("script-router")[0]
    assert version.tags["load_check"] == "passed" and version.tags["load_check_answered"] == "true"
    [answer] = _answers("script-router", [{"ticket": TICKET}])
    assert answer["error"] == "" and answer["team"] in TEAMS
    assert answer["queue"].startswith(f"support/{answer['team']} (")  # the captured helper and constant ran


def test_a_class_in_the_users_file_travels_with_the_module_it_imports(user_dir):
    router = import_object(f"{user_dir / 'ticket_router.py'}:Router", "TARGET")(summarize=False)
    version = publish(router, lm=LM(), name="file-router")
    code = Path(mlflow.artifacts.download_artifacts(f"models:/file-router/{version.version}")) / "code"
    expected = {"ticket_router.py", "ticket_teams.py", "pipelines", "serving", "sigflow"}
    assert expected <= {path.name for path in code.iterdir()}
    [answer] = _answers("file-router", [{"ticket": TICKET}])
    assert answer["error"] == "" and answer["team"] in TEAMS and answer["summary"] == ""


def test_two_retrieve_steps_over_two_stores_are_packaged_once_each_and_served(user_dir):
    news = VectorStore.build(load_dataset("bbc").corpus[:12])
    tickets = VectorStore.build([Passage(id=row["id"], title=row["team"], text=row["ticket"]) for row in (
        json.loads(line) for line in TICKETS.read_text().splitlines()[:12])])
    program = import_object(f"{user_dir / 'two_stores.py'}:TwoLibraries", "TARGET")(news, tickets, k=2)
    publish(program, lm=LM(), name="two-stores")
    bundle_dir = Path(mlflow.artifacts.download_artifacts("models:/two-stores/1")) / "artifacts"
    assert sorted(p.name for p in bundle_dir.iterdir() if p.is_dir()) == ["store-0", "store-1"]
    [answer] = _answers("two-stores", [{"question": "Who asked for a refund of a double charge?"}])
    ids = answer["passage_ids"]
    assert answer["error"] == "" and len(ids) == 4
    assert {ids[0], ids[1]} <= {p.id for p in news.passages} and {ids[2], ids[3]} <= {p.id for p in tickets.passages}


def test_a_model_whose_code_does_not_travel_is_not_registered_and_the_module_is_named(user_dir, monkeypatch):
    router = import_object(f"{user_dir / 'ticket_router.py'}:Router", "TARGET")(summarize=False)
    monkeypatch.setattr(CodeWalk, "visit", lambda walk, module: None)  # the bug the check is there to catch
    with pytest.raises(LoadCheckFailed, match="No module named 'ticket_router'"):
        publish(router, lm=LM(), name="broken-router")
    with pytest.raises(ValueError, match="no registered model 'broken-router'"):
        versions("broken-router")


def test_a_model_that_reads_the_callers_files_is_not_registered_and_the_file_is_named(user_dir, monkeypatch):
    monkeypatch.chdir(user_dir)
    (user_dir / "glossary.txt").write_text("refund charge invoice")
    glossary = import_object(f"{user_dir / 'needs_a_file.py'}:Glossary", "TARGET")()
    with pytest.raises(LoadCheckFailed, match=r"glossary\.txt"):
        publish(glossary, lm=LM(), name="glossary")
    with pytest.raises(ValueError, match="no registered model 'glossary'"):
        versions("glossary")
