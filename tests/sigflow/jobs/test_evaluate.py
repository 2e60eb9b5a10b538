"""Library functions behind the CLI, with a scripted LM."""

import mlflow
import pytest

from pipelines import ScriptedLM, evaluate, track_usage
from pipelines.datasets import load_dataset
from pipelines.programs import Classify, program_spec
from serving import tracking
from sigflow.jobs.evaluate import rescore_run


def _logged_classify_run(fake: ScriptedLM) -> str:
    program = Classify()
    program.set_lm(fake.lm())
    metrics = program_spec("classify").metrics()
    result = evaluate(program, load_dataset("trec").split("dev", 12), metrics["accuracy"])
    with tracking.run("evaluate classify", {"program": "classify"}) as run_id:
        tracking.log_evaluation(result, result.scores(metrics))
    return run_id


def test_rescore_recomputes_from_stored_predictions_without_lm_calls():
    with ScriptedLM(responder=lambda messages: "label: human") as fake:
        run_id = _logged_classify_run(fake)
        calls = len(fake.history)
        with track_usage() as usage:
            result = rescore_run(run_id, "macro_f1")
    assert usage.calls == 0 and len(fake.history) == calls
    assert result["previous_metric"] == "accuracy:label"
    assert result["score"] == pytest.approx(mlflow.get_run(run_id).data.metrics["macro_f1"])
    assert mlflow.get_run(run_id).data.metrics["rescored_macro_f1"] == pytest.approx(result["score"])


def test_rescore_names_unknown_metrics_and_runs():
    with ScriptedLM(responder=lambda messages: "label: human") as fake:
        run_id = _logged_classify_run(fake)
    with pytest.raises(ValueError, match="unknown metric 'bleu'; choose one of accuracy, macro_f1, accuracy:FIELD"):
        rescore_run(run_id, "bleu")
    with pytest.raises(ValueError, match="no MLflow run"):
        rescore_run("0" * 32, "accuracy")
