"""`sigflow evaluate`, `rescore` and `predict`: a program, shipped or your own, scored, re-scored or run once."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.lm.client import LM
from sigflow.cli.options import (
    data_dir_option,
    dataset_option,
    json_option,
    lm_option,
    metric_option,
    print_json,
    program_argument,
    state_option,
    threads_option,
    tracked,
)
from sigflow.jobs.evaluate import evaluate_program, predict_text, rescore_run
from sigflow.jobs.tasks import DataFiles


@click.command()
@program_argument
@dataset_option
@data_dir_option
@click.option("--data", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Your examples (JSONL, CSV or Parquet): the program's inputs and the metric's label columns.")
@metric_option
@click.option("--split", default=None, help="A shipped dataset's split (default dev).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate the first N examples only.")
@state_option
@threads_option
@lm_option
@json_option
@tracked
def evaluate(program, dataset, data_dir, data, metrics, split, limit, state, threads, lm_model, as_json) -> None:
    """Score TARGET on a dataset split or on your --data; logged to MLflow with its predictions."""
    summary = evaluate_program(program, dataset=dataset, data_dir=data_dir, split=split, limit=limit, state=state,
                               lm=LM(lm_model), num_threads=threads, files=DataFiles(data=data),
                               metrics=metrics).summary()
    click.echo(f"{summary['program']} on {summary['dataset']}/{summary['split']}: {summary['metric']} "
               f"{summary['score']:.3f} over {summary['n']} examples; "
               + ", ".join(f"{name} {value:.3f}" for name, value in summary["metrics"].items()))
    click.echo(f"{summary['lm_calls']} LM calls, {summary['cache_hits']} cache hits, "
               f"{summary['parse_failures']} unparseable, {summary['errors']} errors, {summary['seconds']:.1f} s; "
               f"MLflow run {summary['run_id']}")
    if as_json:
        print_json(summary)


@click.command()
@program_argument
@click.argument("text", required=False)
@click.option("--input", "inputs", multiple=True, metavar="NAME=VALUE", help="An input by name, for programs "
              "that take several.")
@dataset_option
@data_dir_option
@state_option
@lm_option
@json_option
def predict(program, text, inputs, dataset, data_dir, state, lm_model, as_json) -> None:
    """Run TARGET once on TEXT (its one input) or on --input NAME=VALUE for each input."""
    named = dict(_name_value(item) for item in inputs)
    answer = predict_text(program, text, inputs=named, dataset=dataset, data_dir=data_dir, state=state,
                          lm=LM(lm_model))
    if as_json:
        print_json(answer)
        return
    for name, value in answer["outputs"].items():
        click.echo(f"{name}: {value}")


@click.command()
@click.argument("run_id")
@click.option("--metric", "metric_name", required=True,
              help="A metric of the run's program (e.g. macro_f1), NAME:FIELD or FILE.py:FUNCTION.")
@json_option
@tracked
def rescore(run_id, metric_name, as_json) -> None:
    """Re-score a logged evaluation with another metric, from its stored predictions (no LM call)."""
    result = rescore_run(run_id, metric_name)
    click.echo(f"{result['metric']}: {result['score']:.3f} over {result['n']} stored predictions "
               f"(was {result['previous_metric']} {result['previous_score']:.3f}); 0 LM calls")
    if as_json:
        print_json(result)


def _name_value(item: str) -> tuple[str, str]:
    name, separator, value = item.partition("=")
    if not separator or not name:
        raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--input")
    return name, value
