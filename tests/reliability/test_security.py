"""Files sigflow loads cannot run code or read outside their place: a pickle posing as program state or as a
model's program file is refused without being unpickled, and a model whose artifact points outside its
directory (an edited MLmodel, a symbolic link) does not load."""

import logging
import os
import pickle
import shutil
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml

from pipelines import ScriptedLM
from pipelines.programs import Classify
from pipelines.state import StateError
from serving import tracking
from serving.packaging import log_program_model


class _Payload:
    """Unpickling this creates `marker`: proof that the file was unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _pickle_file(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps(_Payload(marker)))
    return path


@pytest.fixture
def model_dir(tmp_path) -> Path:
    """A classify model logged (answering from a script) and downloaded as a plain directory."""
    with ScriptedLM(responder=lambda messages: "label: human") as fake, tracking.run("security", {}):
        info = log_program_model(Classify(), lm=fake.lm())
    return Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(tmp_path / "download")))


def _edit_artifact_path(model: Path, name: str, new_path: str) -> None:
    spec = yaml.safe_load((model / "MLmodel").read_text())
    spec["flavors"]["python_function"]["artifacts"][name]["path"] = new_path
    (model / "MLmodel").write_text(yaml.safe_dump(spec))


def test_a_pickle_as_program_state_is_refused_unopened(tmp_path):
    marker = tmp_path / "unpickled"
    with pytest.raises(StateError):
        Classify().load(_pickle_file(tmp_path / "state.json", marker))
    assert not marker.exists()


def test_the_untouched_model_loads_with_the_programs_state_and_inputs(model_dir):
    loaded = mlflow.pyfunc.load_model(str(model_dir))
    served = loaded.unwrap_python_model()
    assert isinstance(served.program, Classify) and served.program.fingerprint() == Classify().fingerprint()
    assert served.bundle.input_fields == ["question"] and served.lm.model.startswith("scripted/")
    assert loaded.metadata.signature.inputs.input_names() == ["question"]


def test_a_pickle_as_the_models_program_file_is_refused_unopened(model_dir, tmp_path):
    marker = tmp_path / "unpickled"
    _pickle_file(model_dir / "artifacts" / "program.json", marker)
    with pytest.raises(Exception, match="cannot read"):
        mlflow.pyfunc.load_model(str(model_dir))
    assert not marker.exists()


def test_an_artifact_path_leading_outside_the_model_is_refused(model_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(model_dir / "artifacts" / "program.json", outside / "program.json")
    _edit_artifact_path(model_dir, "program", "../outside/program.json")
    with pytest.raises(Exception, match="reaches outside the model directory"):
        mlflow.pyfunc.load_model(str(model_dir))


def test_a_symbolic_link_leading_outside_the_model_is_refused(model_dir, tmp_path):
    outside = tmp_path / "elsewhere.json"
    shutil.move(model_dir / "artifacts" / "program.json", outside)
    os.symlink(outside, model_dir / "artifacts" / "program.json")
    with pytest.raises(Exception, match="reaches outside the model directory"):
        mlflow.pyfunc.load_model(str(model_dir))


FAKE_KEY = "sk-leakcheck-9f8e7d6c5b4a39281706FAKE"


def test_no_api_key_in_any_artifact_log_cache_or_trace(tmp_path, monkeypatch, caplog, capfd):
    from pipelines import LM
    from serving.publish import publish
    from sigflow.jobs.evaluate import evaluate_program
    from tests.reliability.flaky_provider import FlakyProvider, serving

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    provider = FlakyProvider(lambda messages: "label: human", fault_rates={})
    with serving(provider):
        evaluate_program("classify", limit=3, lm=LM("openai/gpt-test", api_base=provider.url, api_key=FAKE_KEY))
        version = publish(Classify(), lm=LM("openai/gpt-test", api_base=provider.url), name="keyless",
                          scores={"dataset": "trec", "metric": "accuracy", "score": 0.5, "optimizer": "none"})
        answers = mlflow.pyfunc.load_model(f"models:/keyless/{version.version}").predict(
            pd.DataFrame({"question": ["Who wrote Hamlet?"]}))
    assert list(answers["label"]) == ["human"]
    assert {entry.authorization for entry in provider.log} == {f"Bearer {FAKE_KEY}"}  # the key was in use

    traces = _traces(minimum=1)  # the served prediction's: a chain, the LM call and the parse
    assert "CHAT_MODEL" in {span.span_type for trace in traces for span in trace.data.spans}
    assert FAKE_KEY not in "".join(trace.to_json() for trace in traces)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert FAKE_KEY.encode() not in path.read_bytes(), f"the API key was written to {path}"
    printed = capfd.readouterr()
    assert FAKE_KEY not in caplog.text + printed.out + printed.err


def _traces(minimum: int, wait_seconds: float = 60) -> list:
    """Traces are written asynchronously: poll until `minimum` have arrived."""
    deadline = time.monotonic() + wait_seconds
    while True:
        experiments = [experiment.experiment_id for experiment in mlflow.search_experiments()]
        traces = mlflow.search_traces(locations=experiments, return_type="list")
        if len(traces) >= minimum or time.monotonic() > deadline:
            return traces
        time.sleep(0.5)
