"""`sigflow batch` of a published zero-shot `classify` over TREC test questions (a Parquet file), in process
and on a `local[2]` Spark session, each from an empty LM cache: rows per second, the whole job included (for
Spark: the session, the driver learning the answer columns from the model's input example, the executors
loading the model once per Python worker)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pandas as pd

from benchmarks.harness import fresh_cache_dir
from pipelines import LM
from pipelines.datasets import load_dataset
from pipelines.programs import Classify
from serving.publish import publish
from sigflow.jobs.batch import batch_score

SPARK_MASTER = "local[2]"


def run(quick: bool) -> dict[str, Any]:
    questions = [example.question for example in load_dataset("trec").split("test", 4 if quick else 200)]
    with tempfile.TemporaryDirectory() as directory, patch.dict(os.environ, {
            "MLFLOW_TRACKING_URI": f"sqlite:///{Path(directory, 'mlflow.db')}",
            "SIGFLOW_ARTIFACT_ROOT": str(Path(directory, "artifacts"))}):
        root = Path(directory)
        pd.DataFrame({"id": range(len(questions)), "question": questions}).to_parquet(root / "questions.parquet")
        with fresh_cache_dir():
            version = publish(Classify(), lm=LM(), name="classify-batch")
        model_uri = f"models:/classify-batch/{version.version}"
        rows = []
        for master in (None, SPARK_MASTER):
            with fresh_cache_dir():
                output = root / f"answers-{'spark' if master else 'in-process'}.parquet"
                rows.append(batch_score(model_uri, root / "questions.parquet", output, spark_master=master).summary())
    return {"rows": rows}


def report(result: dict[str, Any]) -> str:
    lines = [f"| {row['spark'] or 'in process'} | {row['rows']} | {row['failed']} | {row['seconds']:.1f} | "
             f"{row['rows_per_second']:.2f} |" for row in result["rows"]]
    return "\n".join(["| where | rows | failed | seconds | rows per second |", "|---|---:|---:|---:|---:|", *lines])
