"""`optimize_program` with a scripted LM: the MLflow record of an optimization, resuming it, the estimate."""

import json
from pathlib import Path

import mlflow
import pytest

from pipelines import ScriptedLM, track_usage
from pipelines.datasets import load_dataset
from sigflow.jobs.evaluate import rescore_run
from sigflow.jobs.optimize import OptimizeRequest, estimate_optimization, optimize_program


def _classifier(messages) -> str:
    """Proposals and summaries get plausible replies; a question is `human` only when demos are shown."""
    last = messages[-1]["content"]
    if last.startswith("examples:"):
        return "summary: Questions labeled by the kind of answer they expect."
    if last.startswith("task_summary:"):
        return f"instruction: Label the question by its expected answer ({len(messages[0]['content'])})."
    return "label: human" if len(messages) > 2 else "label: entity"


class ReflectingClassifier:
    """As `_classifier`; gepa's rewrite prompt gets an instruction under which every label is right."""

    def __init__(self):
        trec = load_dataset("trec")
        self.labels = {example.question: example.label for split in ("train", "dev") for example in trec.split(split)}

    def __call__(self, messages) -> str:
        if "write a new instruction" in messages[-1]["content"]:
            return "```\nLabel the question by the kind of answer it expects, carefully.\n```"
        if "carefully" in messages[0]["content"]:
            return f"label: {self.labels[messages[-1]['content'].split(': ', 1)[1]]}"
        return _classifier(messages)


def _optimize_counting_calls(tmp_path, **settings):
    """The report, and how many calls reached the scripted LM."""
    request = OptimizeRequest("classify", "mipro", train=20, val=12, num_threads=2, **settings)
    with ScriptedLM(responder=_classifier) as fake:
        return optimize_program(request, lm=fake.lm(), studies_dir=tmp_path / "studies"), len(fake.history)


def _optimize(tmp_path, **settings):
    return _optimize_counting_calls(tmp_path, **settings)[0]


def _nested_runs(run_id: str) -> list:
    return mlflow.search_runs(search_all_experiments=True, output_format="list",
                              filter_string=f"tags.mlflow.parentRunId = '{run_id}'")


def test_an_optimization_is_one_run_with_a_nested_run_per_trial_and_its_artifacts(tmp_path):
    report, calls = _optimize_counting_calls(tmp_path)
    summary = report.summary()
    run = mlflow.get_run(report.run_id)
    assert run.data.params["optimizer"] == "mipro" and run.data.params["train_size"] == "20"
    assert run.data.metrics["baseline_score"] == pytest.approx(summary["baseline_score"])
    assert run.data.metrics["score"] == pytest.approx(summary["score"]) and run.data.tags["sigflow.finished"] == "true"
    assert len(_nested_runs(report.run_id)) == summary["trials"] > 0
    artifacts = {item.path for item in mlflow.MlflowClient().list_artifacts(report.run_id)}
    assert {"program_state.json", "trials.json", "optimization_history.png", "evaluation.json",
            "baseline_evaluation.json", "proposed_instructions.json"} <= artifacts
    assert summary["score"] >= summary["baseline_score"]
    assert summary["lm_calls"] == calls > 0  # every call that reached the LM is counted once
    assert summary["evaluation_lm_calls"] == report.baseline.usage.calls + report.final.usage.calls
    assert run.data.metrics["optimizer_lm_calls"] == summary["optimizer_lm_calls"] > 0
    state = json.loads(Path(mlflow.artifacts.download_artifacts(run_id=report.run_id,
                                                                artifact_path="program_state.json")).read_text())
    assert state["predictors"]["classify"]["demos"] == json.loads(json.dumps(
        [dict(demo) for demo in report.program.classify.demos]))


def test_the_final_scores_of_an_optimization_can_be_rescored_without_lm_calls(tmp_path):
    report = _optimize(tmp_path)
    with track_usage() as usage:
        rescored = rescore_run(report.run_id, "macro_f1")
    assert usage.calls == 0 and rescored["score"] == pytest.approx(report.final_metrics["macro_f1"])


def test_a_multi_objective_optimization_logs_a_pareto_plot(tmp_path):
    report = _optimize(tmp_path, objectives=("quality", "tokens"))
    artifacts = {item.path for item in mlflow.MlflowClient().list_artifacts(report.run_id)}
    assert "pareto_front.png" in artifacts and report.summary()["pareto"]


def test_an_optimization_stopped_by_its_budget_resumes_in_the_same_run(tmp_path):
    stopped = _optimize(tmp_path, budget_calls=40)
    assert stopped.summary()["stopped_by_budget"] and stopped.summary()["optimizer_lm_calls"] <= 40
    # a stopped run counts as finished; a killed one would not have been marked, so unmark this one
    mlflow.MlflowClient().delete_tag(stopped.run_id, "sigflow.finished")
    resumed = _optimize(tmp_path, resume=True)
    assert resumed.run_id == stopped.run_id and not resumed.summary()["stopped_by_budget"]
    assert resumed.summary()["trials"] > stopped.summary()["trials"]


def test_resume_without_an_interrupted_run_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no interrupted mipro optimization of classify on trec to resume"):
        _optimize(tmp_path, resume=True)


def test_the_estimate_makes_no_lm_call_and_bounds_the_run(tmp_path):
    request = OptimizeRequest("classify", "mipro", train=20, val=12, num_threads=2)
    with track_usage() as usage:
        estimate = estimate_optimization(request)
    assert usage.calls == 0 and estimate["evaluation_lm_calls"] == 2 * 12  # one predictor, before and after
    assert _optimize(tmp_path).summary()["optimizer_lm_calls"] <= estimate["optimizer_lm_calls"]


@pytest.mark.parametrize(("settings", "message"), [
    ({"optimizer": "annealing"}, "unknown optimizer 'annealing'"),
    ({"optimizer": "bootstrap", "resume": True}, "--resume continues a mipro search"),
    ({"optimizer": "random", "objectives": ("quality", "tokens")}, "several objectives need --optimizer mipro"),
])
def test_bad_requests_are_refused_before_any_work(settings, message):
    with pytest.raises(ValueError, match=message):
        OptimizeRequest(**{"program": "classify", **settings}).check()


def test_a_reflective_search_is_one_run_with_a_nested_run_per_candidate(tmp_path):
    request = OptimizeRequest("classify", "gepa", train=12, val=6, num_threads=2, budget_calls=80)
    with ScriptedLM(responder=ReflectingClassifier()) as fake:
        report = optimize_program(request, lm=fake.lm(), studies_dir=tmp_path / "studies")
    summary = report.summary()
    assert summary["candidates"] == len(_nested_runs(report.run_id)) >= 2
    assert "carefully" in report.program.classify.signature.instructions
    assert summary["score"] == 1.0
    assert summary["score"] >= summary["baseline_score"] and summary["optimizer_lm_calls"] <= 80
