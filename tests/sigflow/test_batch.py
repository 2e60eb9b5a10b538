"""Batch scoring of a published model: in process over Parquet and CSV files with a scripted LM (formats,
failing rows, bad input named before any work), and on the embedded model 200 TREC questions scored by
`mlflow.pyfunc.spark_udf` on a `local[2]` session and by `sigflow batch` from the shell, in process and on
Spark, all with the answers of the in-process model."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipelines import LM, Predict, ScriptedLM
from pipelines.datasets import load_dataset
from pipelines.programs import Classify
from serving.batch import score_frame, score_spark_frame
from serving.publish import publish
from sigflow.jobs.batch import batch_score

SIGFLOW = str(Path(sys.executable).with_name("sigflow"))
QUESTIONS = ["Who wrote Hamlet?", "", "Where is Rome?"]


def _echo(messages) -> str:
    return f"answer: {messages[-1]['content'].split(': ', 1)[1].upper()}"


@pytest.fixture
def scripted_model():
    with ScriptedLM(responder=_echo) as fake:
        version = publish(Predict("question -> answer"), lm=fake.lm(), name="echo")
        yield f"models:/echo/{version.version}"


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_table_is_scored_in_process_with_each_failing_row_kept(tmp_path, scripted_model, suffix):
    source, output = tmp_path / f"in{suffix}", tmp_path / "out" / f"answers{suffix}"
    table = pd.DataFrame({"id": ["a", "b", "c"], "question": QUESTIONS})
    table.to_parquet(source) if suffix == ".parquet" else table.to_csv(source, index=False)
    report = batch_score(scripted_model, source, output)
    scored = pd.read_parquet(output) if suffix == ".parquet" else pd.read_csv(output, keep_default_na=False)
    assert list(scored["id"]) == ["a", "b", "c"] and list(scored.columns[:2]) == ["id", "question"]
    assert scored["answer"].iloc[0] == "WHO WROTE HAMLET?" and scored["answer"].iloc[2] == "WHERE IS ROME?"
    assert scored["error"].iloc[1] == "field 'question' of row 1 is empty"
    assert (report.rows, report.failed) == (3, 1)


def test_bad_input_is_named_before_any_work(tmp_path, scripted_model):
    source = tmp_path / "in.parquet"
    pd.DataFrame({"query": ["Who?"]}).to_parquet(source)
    with pytest.raises(ValueError, match=re.escape("no column(s) ['question']: the model takes ['question']")):
        batch_score(scripted_model, source, tmp_path / "out.parquet")
    with pytest.raises(ValueError, match="name a Parquet or CSV file"):
        batch_score(scripted_model, source, tmp_path / "out.json")
    with pytest.raises(FileNotFoundError, match="no input table"):
        batch_score(scripted_model, tmp_path / "missing.csv", tmp_path / "out.csv")
    (tmp_path / "taken.csv").write_text("x\n")
    with pytest.raises(FileExistsError, match=r"taken\.csv exists"):
        batch_score(scripted_model, source, tmp_path / "taken.csv")


def _sigflow_batch(*arguments: str) -> None:
    finished = subprocess.run([SIGFLOW, "batch", *arguments], capture_output=True, text=True, timeout=900)
    assert finished.returncode == 0, finished.stderr[-3000:]


@pytest.mark.local_lm
@pytest.mark.timeout(1500)
def test_spark_and_sigflow_batch_answer_200_rows_as_the_in_process_model(tmp_path, monkeypatch):
    from pyspark.sql import SparkSession

    questions = [example.question for example in load_dataset("trec").split("test", 200)]
    table = pd.DataFrame({"id": range(len(questions)), "question": questions})
    model_uri = f"models:/trec-classify/{publish(Classify(), lm=LM(), name='trec-classify').version}"
    expected = score_frame(model_uri, table)
    assert (expected["error"] == "").mean() >= 0.95 and expected["label"].nunique() > 1

    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    spark = SparkSession.builder.master("local[2]").config("spark.sql.execution.arrow.maxRecordsPerBatch",
                                                          "64").getOrCreate()
    try:
        scored = score_spark_frame(spark, model_uri, spark.createDataFrame(table).repartition(2)
                                   ).toPandas().sort_values("id")
    finally:
        spark.stop()
    assert list(scored["label"]) == list(expected["label"])

    table.to_parquet(tmp_path / "questions.parquet")
    table.to_csv(tmp_path / "questions.csv", index=False)
    _sigflow_batch(model_uri, str(tmp_path / "questions.parquet"), str(tmp_path / "answers.parquet"))
    _sigflow_batch(model_uri, str(tmp_path / "questions.csv"), str(tmp_path / "answers.csv"), "--spark", "local[2]")
    in_process = pd.read_parquet(tmp_path / "answers.parquet")
    on_spark = pd.concat(pd.read_csv(part, keep_default_na=False) for part in
                         sorted((tmp_path / "answers.csv").glob("part-*.csv"))).sort_values("id")
    assert list(in_process["label"]) == list(expected["label"]) == list(on_spark["label"])
