"""The job behind `sigflow batch`: a table in a Parquet or CSV file scored by a published model and written
beside its answers, in this process or on a Spark cluster. Rows that fail keep their reason in `error`; the
job goes on. A rerun after a crash answers the rows already done from the LM cache."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from serving.batch import score_frame, score_spark_frame
from serving.requests import ERROR_COLUMN, MAX_ROWS

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


@dataclass(frozen=True)
class BatchReport:
    model_uri: str
    output: Path
    rows: int
    failed: int
    seconds: float
    spark_master: str | None

    def summary(self) -> dict[str, Any]:
        return {"model_uri": self.model_uri, "output": str(self.output), "rows": self.rows, "failed": self.failed,
                "seconds": round(self.seconds, 3), "rows_per_second": round(self.rows / max(self.seconds, 1e-9), 3),
                "spark": self.spark_master}


def file_format(path: Path) -> str:
    """parquet or csv, by the file's (or Spark output directory's) suffix."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise ValueError(f"{path}: name a Parquet or CSV file ({', '.join(FORMATS)})")
    return found


def batch_score(model_uri: str, source: Path, output: Path, *, spark_master: str | None = None) -> BatchReport:
    """Score every row of `source` into `output` (a file in process; with Spark, a directory of part files)."""
    formats = file_format(source), file_format(output)
    if not source.exists():
        raise FileNotFoundError(f"no input table at {source}")
    if output.exists():
        raise FileExistsError(f"{output} exists: choose another output")
    started = time.perf_counter()
    if spark_master is None:
        rows, failed = _in_process(model_uri, source, output, formats)
    else:
        rows, failed = _on_spark(model_uri, source, output, formats, spark_master)
    return BatchReport(model_uri, output, rows, failed, time.perf_counter() - started, spark_master)


def _in_process(model_uri: str, source: Path, output: Path, formats: tuple[str, str]) -> tuple[int, int]:
    frame = (pd.read_parquet(source) if formats[0] == "parquet"
             else pd.read_csv(source, dtype=str, keep_default_na=False))
    scored = score_frame(model_uri, frame)
    output.parent.mkdir(parents=True, exist_ok=True)
    if formats[1] == "parquet":
        scored.to_parquet(output, index=False)
    else:
        scored.map(_csv_cell).to_csv(output, index=False)
    return len(scored), int((scored[ERROR_COLUMN].fillna("") != "").sum())


def _on_spark(model_uri: str, source: Path, output: Path, formats: tuple[str, str], master: str) -> tuple[int, int]:
    from pyspark import StorageLevel
    from pyspark.sql import SparkSession, functions

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' Python: this one, with sigflow
    spark = (SparkSession.builder.master(master).appName(f"sigflow batch {model_uri}")
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(MAX_ROWS)).getOrCreate())
    try:
        reader = spark.read if formats[0] == "parquet" else spark.read.options(header=True, multiLine=True, escape='"')
        frame = reader.format(formats[0]).load(str(source))
        if frame.rdd.getNumPartitions() < spark.sparkContext.defaultParallelism:  # a small file is one partition
            frame = frame.repartition(spark.sparkContext.defaultParallelism)
        # Kept once computed: the counts below read the answers instead of scoring the table again.
        scored = score_spark_frame(spark, model_uri, frame).persist(StorageLevel.MEMORY_AND_DISK)
        writer = scored.write if formats[1] == "parquet" else scored.write.options(header=True, escape='"')
        writer.format(formats[1]).save(str(output))
        failed = scored.filter(functions.coalesce(functions.col(ERROR_COLUMN), functions.lit("")) != "").count()
        return scored.count(), failed
    finally:
        spark.stop()


def _csv_cell(value: Any) -> Any:
    """A list or mapping answer (passage ids, say) as its JSON text: a CSV cell holds text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
