"""An optimized program published into its optimization's run, with a scripted LM: the version's tags and
the prompt versions of its instructions."""

import json

import mlflow

from pipelines import ScriptedLM
from serving.registry import versions
from sigflow.jobs.optimize import OptimizeRequest, optimize_program
from sigflow.jobs.publish import publish_optimized


def test_an_optimized_program_is_logged_in_its_run_and_registered_with_its_scores(tmp_path):
    request = OptimizeRequest("classify", "labeled", train=10, val=4, num_threads=2)
    with ScriptedLM(responder=lambda messages: "label: human") as fake:
        report = optimize_program(request, lm=fake.lm(), studies_dir=tmp_path)
        summary = report.summary()
        version = publish_optimized(report, lm=fake.lm(), name="classifier")
    assert version.run_id == report.run_id and versions("classifier")[0].version == version.version
    assert version.tags["fingerprint"] == report.program.fingerprint()
    assert float(version.tags["score"]) == summary["score"] and version.tags["optimizer"] == "labeled"
    model_uri = mlflow.get_run(report.run_id).data.tags["sigflow.model_uri"]
    loaded = mlflow.pyfunc.load_model(model_uri)
    assert loaded.metadata.signature.inputs.input_names() == ["question"]
    assert report.prompts == {"classify": "prompts:/classify.classify/1"}
    assert json.loads(version.tags["prompts"]) == report.prompts
    prompt = mlflow.genai.load_prompt(report.prompts["classify"])
    assert prompt.template == report.program.classify.signature.instructions
    assert prompt.tags["run_id"] == report.run_id and float(prompt.tags["score"]) == summary["score"]
    linked = json.loads(mlflow.get_run(report.run_id).data.tags["mlflow.linkedPrompts"])
    assert {"name": "classify.classify", "version": "1"} in linked
