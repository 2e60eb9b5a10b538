"""The notebooks run top to bottom, small (CI=true), on the embedded model; a failing cell fails the test."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ("01_classification.ipynb", "02_rag.ipynb", "03_your_own_pipeline.ipynb", "04_agent.ipynb")
CHAT = {"04_agent.ipynb"}
"""The notebooks whose model answers in the chat form (tool calls and messages) instead of a DataFrame."""


def test_notebooks_are_stored_without_outputs():
    for name in NAMES:
        for cell in nbformat.read(NOTEBOOKS / name, as_version=4).cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{name} keeps outputs: strip them"


@pytest.mark.local_lm
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_small_end_to_end(name, monkeypatch):
    monkeypatch.setenv("CI", "true")
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(book, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
                   ).execute()
    text = {index: _output_text(cell) for index, cell in enumerate(book.cells) if cell.cell_type == "code"}
    assert any(output.startswith("(400,") for output in text.values()), "the bad request was not refused"
    if name in CHAT:
        assert any("'function_call'" in output and "'message'" in output for output in text.values())
        return
    served = next(output for output in text.values() if "'predictions'" in output)
    assert "'error': ''" in served
    assert "champion" in "".join(text.values())


def _output_text(cell) -> str:
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)
