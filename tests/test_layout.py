"""The house rules that cannot drift: what importing the framework loads, the public API of `import sigflow`,
and the size of every module and function."""

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("faiss", "torch", "litellm", "mlflow", "click")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50


def _loaded_after(statement: str) -> list[str]:
    """The heavy modules loaded by `statement` in a fresh interpreter."""
    probe = f"import json, sys; {statement}; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    finished = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(finished.stdout)


def test_importing_the_framework_loads_no_model_library_no_mlflow_and_no_cli():
    assert _loaded_after("import pipelines") == []


def test_declaring_a_program_with_retrieval_loads_no_faiss_or_torch():
    assert _loaded_after("from pipelines import Module, Predict, Retrieve, ChainOfThought") == []


def test_one_import_gives_the_public_api():
    import sigflow

    for name in ("Predict", "ChainOfThought", "Signature", "Module", "LM", "Budget", "evaluate", "publish",
                 "promote", "TrackingStore", "VectorStore"):
        assert hasattr(sigflow, name), name
    assert sigflow.optimizers.MIPRO.__name__ == "MIPRO" and sigflow.programs.Classify.__name__ == "Classify"
    assert sorted(sigflow.__all__) == sorted(set(sigflow.__all__))


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


SOURCES = [*_python_files("pipelines"), *_python_files("serving"), *_python_files("sigflow")]


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_exceeds_the_line_limit(path):
    assert path.read_text(encoding="utf-8").count("\n") <= MAX_MODULE_LINES


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_function_exceeds_the_line_limit(path):
    too_long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert too_long == []


def test_the_complexity_check_stays_on():
    ruff = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "C901" in ruff["select"] and ruff["mccabe"]["max-complexity"] <= 10
