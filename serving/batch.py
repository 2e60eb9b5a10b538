"""Batch scoring of a published model, every row answered or given its error (the `failures="row"` param):
in process over a pandas table, or on Spark, where `mlflow.pyfunc.spark_udf` loads the model once in each
Python worker (its embedded-model workers with it) and each Arrow batch, of at most `MAX_ROWS` rows, is one
call of the model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm import tqdm

from serving.requests import ERROR_COLUMN, MAX_ROWS
from serving.tracking import mlflow_module

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkFrame
    from pyspark.sql import SparkSession

ROW_FAILURES = {"failures": "row"}
ANSWER_COLUMN = "_sigflow_answer"
SPARK_TYPES = {str: "string", bool: "boolean", int: "long", float: "double"}
WORKER_ENVIRONMENT = {"SIGFLOW_LOCAL_WORKERS": "1"}
"""Each Spark task slot runs one Python worker: one embedded-model process each uses every core once."""


def model_inputs(model_uri: str) -> list[str]:
    """The input columns the model's signature declares."""
    signature = mlflow_module().models.get_model_info(model_uri).signature
    if signature is None or signature.inputs is None:
        raise ValueError(f"{model_uri} declares no input columns: publish it with sigflow to score it in batch")
    return signature.inputs.input_names()


def check_columns(columns: list[str], inputs: list[str], source: str) -> None:
    missing = [name for name in inputs if name not in columns]
    if missing:
        raise ValueError(f"{source} has no column(s) {missing}: the model takes {inputs}; the columns are {columns}")
    clashing = [name for name in columns if name == ERROR_COLUMN]
    if clashing:
        raise ValueError(f"{source} has a column named {ERROR_COLUMN!r}, which the answers bring: rename it")


def score_frame(model_uri: str, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the model's answer columns beside it, one model call per `MAX_ROWS` rows."""
    inputs = model_inputs(model_uri)
    check_columns(list(frame.columns), inputs, "the table")
    model = mlflow_module().pyfunc.load_model(model_uri)
    answers = []
    with tqdm(total=len(frame), desc="scoring", unit="row") as progress:
        for start in range(0, len(frame), MAX_ROWS):
            answers.append(model.predict(frame[inputs].iloc[start:start + MAX_ROWS], params=ROW_FAILURES))
            progress.update(len(answers[-1]))
    return pd.concat([frame.reset_index(drop=True), pd.concat(answers, ignore_index=True)], axis=1)


def answer_types(model_uri: str) -> dict[str, str]:
    """Each answer column and its Spark type, found by answering the model's own input example in this
    process: the signature declares the inputs only, and what a program answers is known once it has."""
    mlflow = mlflow_module()
    local = mlflow.artifacts.download_artifacts(model_uri)
    example = mlflow.models.Model.load(local).load_input_example(local)
    if example is None:
        raise ValueError(f"{model_uri} has no input example to learn its answer columns from")
    (answer,) = mlflow.pyfunc.load_model(local).predict(pd.DataFrame(example).head(1)).to_dict("records")
    if answer.get(ERROR_COLUMN):
        raise ValueError(f"{model_uri} could not answer its own input example: {answer[ERROR_COLUMN]}")
    return {name: _spark_type(name, value) for name, value in answer.items()}


def score_spark_frame(spark: SparkSession, model_uri: str, frame: SparkFrame) -> SparkFrame:
    """`frame` with the model's answer columns (`answer_types`, learnt once the columns are checked) beside
    it, scored by the Spark executors."""
    from pyspark.sql import functions

    inputs = model_inputs(model_uri)
    check_columns(frame.columns, inputs, "the table")
    types = answer_types(model_uri)
    score = mlflow_module().pyfunc.spark_udf(
        spark, model_uri, result_type=", ".join(f"`{name}` {kind}" for name, kind in types.items()),
        env_manager="local", params=ROW_FAILURES, extra_env=WORKER_ENVIRONMENT)
    scored = frame.withColumn(ANSWER_COLUMN, score(*[functions.col(name) for name in inputs]))
    return scored.select(*[functions.col(f"`{name}`") for name in frame.columns], f"{ANSWER_COLUMN}.*")


def _spark_type(name: str, value: Any) -> str:
    if type(value) in SPARK_TYPES:
        return SPARK_TYPES[type(value)]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "array<string>"
    raise ValueError(f"the answer column {name!r} holds {type(value).__name__} values, which Spark scoring does "
                     "not map; score the table in process (without --spark)")
