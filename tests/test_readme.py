"""The README's examples are run as written, on the embedded model."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.programs.classify import ClassifyQuestion
from serving.registry import versions

README = Path(__file__).parents[1] / "README.md"


def _python_blocks(section: str) -> str:
    text = README.read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```python\n(.*?)```", body, flags=re.DOTALL))


@pytest.mark.local_lm
def test_declare_a_program_section_runs_and_answers_correctly():
    namespace: dict = {"__name__": "readme"}
    exec(compile(_python_blocks("Declare a program"), "README.md", "exec"), namespace)
    assert "paris" in namespace["prediction"].answer.lower()
    assert namespace["prediction"].reasoning
    assert namespace["label"] == "human"


@pytest.mark.local_lm
def test_lm_door_section_runs_and_the_repeat_is_a_cache_hit():
    namespace: dict = {"__name__": "readme"}
    exec(compile(_python_blocks("The LM door"), "README.md", "exec"), namespace)
    usage = namespace["usage"]
    assert usage.calls == 0 and usage.cache_hits == 1


@pytest.mark.local_lm
def test_optimize_section_runs_within_its_budget_and_saves_the_program(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    exec(compile(_python_blocks("Optimize"), "README.md", "exec"), namespace)
    optimizer = namespace["optimizer"]
    assert optimizer.best_score_ >= optimizer.baseline_score_
    assert 0 < optimizer.usage_.calls <= 150
    assert (tmp_path / "classify-optimized.json").exists()
    instructions = optimizer.search_space_.predictors["classify"].instructions
    # How many proposals are new is up to the model; that they were asked for and none repeats is not.
    assert instructions[0] == ClassifyQuestion.instructions and len(set(instructions)) == len(instructions)
    assert optimizer.proposal_usage_.calls >= 3 and optimizer.task_usage_.calls > 0
    assert [trial.kind for trial in optimizer.trials_][:1] == ["original"] and len(optimizer.trials_) >= 4
    assert namespace["optimized"].classify.signature.instructions in instructions


@pytest.mark.local_lm
def test_ship_section_loads_the_champion_and_answers_five_rows():
    namespace: dict = {"__name__": "readme"}
    exec(compile(_python_blocks("Ship"), "README.md", "exec"), namespace)
    answers = namespace["answers"]
    assert len(answers) == 5 and list(answers["error"]) == [""] * 5
    assert list(answers["label"][:2]) == ["human", "location"]


@pytest.mark.local_lm
def test_your_own_pipeline_section_runs_as_a_script_and_publishes_what_it_declares(tmp_path):
    script = tmp_path / "ticket_desk.py"
    script.write_text(_python_blocks("Your own pipeline"), encoding="utf-8")
    finished = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                              timeout=900)
    assert finished.returncode == 0, finished.stderr
    [champion] = [info for info in versions("ticket-desk") if "champion" in info.aliases]
    assert champion.tags["load_check"] == "passed" and champion.tags["optimizer"] == "bootstrap"
    assert "zero-shot:" in finished.stdout
