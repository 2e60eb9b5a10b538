"""`sigflow batch`: a Parquet or CSV table scored by a published model, in this process or on Spark."""

from __future__ import annotations

from pathlib import Path

import click

from sigflow.cli.options import json_option, print_json, tracked
from sigflow.jobs.batch import batch_score


@click.command()
@click.argument("model_uri", metavar="MODEL_URI")
@click.argument("source", metavar="INPUT", type=click.Path(dir_okay=True, path_type=Path))
@click.argument("output", metavar="OUTPUT", type=click.Path(path_type=Path))
@click.option("--spark", "spark_master", default=None, metavar="MASTER",
              help="Score on Spark (local[2], spark://host:7077, ...); OUTPUT is then a directory of part files.")
@json_option
@tracked
def batch(model_uri, source, output, spark_master, as_json) -> None:
    """Answer every row of INPUT with MODEL_URI (models:/NAME@ALIAS, runs:/ID/model) into OUTPUT, the input
    columns and the answers side by side; a row that fails keeps its reason in `error`."""
    report = batch_score(model_uri, source, output, spark_master=spark_master)
    summary = report.summary()
    where = f"on Spark ({spark_master})" if spark_master else "in process"
    click.echo(f"scored {summary['rows']} rows {where} in {summary['seconds']:.1f} s "
               f"({summary['rows_per_second']:.2f} rows/s), {summary['failed']} failed; wrote {output}")
    if as_json:
        print_json(summary)
