"""An optimized program published into its optimization's run, with a scripted LM: the version's tags."""

import mlflow

from pipelines import ScriptedLM
from serving.publish import publish
from serving.registry import versions
from sigflow.jobs.optimize import OptimizeRequest, optimize_program


def test_an_optimized_program_is_logged_in_its_run_and_registered_with_its_scores(tmp_path):
    request = OptimizeRequest("classify", "labeled", train=10, val=4, num_threads=2)
    with ScriptedLM(responder=lambda messages: "label: human") as fake:
        report = optimize_program(request, lm=fake.lm(), studies_dir=tmp_path)
        summary = report.summary()
        version = publish(report.program, lm=fake.lm(), name="classifier", run_id=report.run_id,
                          scores=report.scores())
    assert version.run_id == report.run_id and versions("classifier")[0].version == version.version
    assert version.tags["fingerprint"] == report.program.fingerprint()
    assert float(version.tags["score"]) == summary["score"] and version.tags["optimizer"] == "labeled"
    model_uri = mlflow.get_run(report.run_id).data.tags["sigflow.model_uri"]
    loaded = mlflow.pyfunc.load_model(model_uri)
    assert loaded.metadata.signature.inputs.input_names() == ["question"]
