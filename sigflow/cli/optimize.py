"""`sigflow optimize`: a program, shipped or your own, made better on its data, optionally registered; or, with
`--join`, one more worker on a search kept in shared storage."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.lm.client import LM
from pipelines.optimizers.storage import HEARTBEAT_SECONDS
from serving.packaging import check_chat_form
from sigflow.cli.options import (
    MLRUNS,
    CountOrFile,
    data_dir_option,
    dataset_option,
    json_option,
    lm_option,
    metric_option,
    print_json,
    threads_option,
    tracked,
)
from sigflow.jobs.join import join_optimization
from sigflow.jobs.optimize import OPTIMIZERS, OptimizeRequest, estimate_optimization, optimize_program
from sigflow.jobs.publish import publish_optimized
from sigflow.jobs.tasks import DataFiles

JOIN_OPTIONS = ("join_run", "storage", "threads", "budget_calls", "budget_tokens", "heartbeat", "as_json")
"""What a joining worker may set: the search itself is the one the run it joins started."""


@click.command()
@click.argument("program", metavar="[TARGET]", required=False)
@click.option("--optimizer", type=click.Choice(list(OPTIMIZERS)), default=None,
              help="How to optimize (required unless --join).")
@dataset_option
@data_dir_option
@click.option("--train", type=CountOrFile(), default=None,
              help="The first N training examples, or your training FILE (JSONL, CSV or Parquet).")
@click.option("--val", type=CountOrFile(), default=None,
              help="Validate on the first N dev examples, or on your validation FILE.")
@metric_option
@click.option("--budget-calls", type=click.IntRange(min=0), default=None, help="Most uncached LM calls to spend.")
@click.option("--budget-tokens", type=click.IntRange(min=0), default=None, help="Most LM tokens to spend.")
@click.option("--objectives", default="quality", show_default=True,
              help="quality, then optionally tokens and/or latency: a multi-objective mipro search.")
@click.option("--auto", type=click.Choice(["light", "medium", "heavy"]), default="light", show_default=True,
              help="How much a mipro search does.")
@click.option("--resume", is_flag=True, help="Continue the latest interrupted mipro search of this program.")
@click.option("--storage", default=None, metavar="URL|FILE",
              help="Keep the mipro search where other workers can join it: a PostgreSQL URL "
                   "(postgresql://user@host/db) or an Optuna journal file on a file system they all mount.")
@click.option("--join", "join_run", default=None, metavar="RUN_ID",
              help="Work on the search of run RUN_ID (started with --storage) until its trials are done.")
@click.option("--heartbeat", type=click.IntRange(min=1), default=HEARTBEAT_SECONDS, show_default=True,
              help="Seconds between a worker's heartbeats in a PostgreSQL study; a trial whose worker misses "
                   "three is failed and run again by another.")
@click.option("--dry-run", is_flag=True, help="Print the estimated LM calls and stop before making any.")
@threads_option
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--register", "register_as", default=None, metavar="NAME",
              help="Log the optimized program as a model and, once it has answered in a fresh process, "
                   "register it as a new version of NAME.")
@click.option("--chat", is_flag=True, help="With --register: publish the chat form (an MLflow ResponsesAgent: "
                                           "messages in, the answer and its tool calls out).")
@lm_option
@json_option
def optimize(program, optimizer, dataset, data_dir, train, val, metrics, budget_calls, budget_tokens, objectives,
             auto, resume, storage, join_run, heartbeat, dry_run, threads, seed, register_as, chat, lm_model,
             as_json) -> None:
    """Make TARGET better on its data: demos and instructions searched under a budget, tracked in MLflow; or,
    with --join RUN_ID, work on a search another machine started with --storage."""
    if join_run is not None:
        _check_join_options(click.get_current_context(), storage)
        _join(join_run, storage, threads, budget_calls, budget_tokens, heartbeat, as_json)
        return
    if program is None or optimizer is None:
        raise ValueError("give TARGET and --optimizer (or --join RUN_ID to work on a search started elsewhere)")
    files = DataFiles(train=_file(train), val=_file(val))
    request = OptimizeRequest(program, optimizer, dataset, data_dir, _count(train), _count(val), budget_calls,
                              budget_tokens, tuple(name.strip() for name in objectives.split(",") if name.strip()),
                              auto, resume, threads, seed, files=files, metrics=metrics, storage=storage,
                              heartbeat_seconds=heartbeat)
    if chat and not register_as:
        raise click.UsageError("--chat chooses the form of the model --register publishes: give --register NAME too")
    if chat:
        check_chat_form(request.task().skeleton())  # refused before the search, not after it
    if dry_run:
        _print_estimate(estimate_optimization(request), as_json)
    else:
        _optimize(request, LM(lm_model), register_as, chat, as_json)


def _print_estimate(estimate: dict[str, int], as_json: bool) -> None:
    click.echo(f"estimated at most {estimate['lm_calls']} LM calls: {estimate['optimizer_lm_calls']} by the "
               f"optimizer, {estimate['evaluation_lm_calls']} to score the program before and after")
    if as_json:
        print_json({"dry_run": True, **estimate})


def _check_join_options(context: click.Context, storage: str | None) -> None:
    if storage is None:
        raise ValueError("--join needs --storage: the database or journal file the search is kept in")
    given = [parameter.name for parameter in context.command.params if parameter.name not in JOIN_OPTIONS
             and context.get_parameter_source(parameter.name) != click.core.ParameterSource.DEFAULT
             and context.params[parameter.name] is not None]
    if given:
        options = ", ".join("TARGET" if name == "program" else f"--{name.replace('_', '-')}" for name in given)
        raise ValueError(f"a worker joining a search runs that search as it was started: drop {options}")


@tracked
def _join(run_id: str, storage: str, threads: int, budget_calls: int | None, budget_tokens: int | None,
          heartbeat: int, as_json: bool) -> None:
    report = join_optimization(run_id, storage, num_threads=threads, budget_calls=budget_calls,
                               budget_tokens=budget_tokens, heartbeat_seconds=heartbeat)
    summary = report.summary()
    click.echo(f"joined run {run_id} ({report.request.program}): ran {summary['trials']} trials with "
               f"{summary['lm_calls']} LM calls, {summary['cache_hits']} cache hits, {summary['seconds']:.1f} s")
    if as_json:
        print_json(summary)


@tracked
def _optimize(request: OptimizeRequest, lm: LM, register_as: str | None, chat: bool, as_json: bool) -> None:
    report = optimize_program(request, lm=lm, studies_dir=MLRUNS / "studies",
                              on_run=_announce_join if request.storage else None)
    summary = report.summary()
    click.echo(f"{request.program} on {summary['dataset']} with {request.optimizer}: {summary['metric']} "
               f"{summary['baseline_score']:.3f} -> {summary['score']:.3f} over {summary['n']} dev examples")
    click.echo(f"{summary['lm_calls']} LM calls ({summary['optimizer_lm_calls']} optimizing, estimated at most "
               f"{summary['estimated_lm_calls']} in all), {summary['cache_hits']} cache hits, "
               f"{summary['seconds']:.1f} s; MLflow run {summary['run_id']}")
    if summary["stopped_by_budget"]:
        click.echo("the budget ran out: this is the best program found before it did")
    if register_as:
        version = publish_optimized(report, lm=lm, name=register_as, chat=chat)
        summary.update(model_uri=f"models:/{register_as}/{version.version}", registered_version=version.version)
        click.echo(f"registered {summary['model_uri']}; promote it with: sigflow promote {register_as} "
                   f"{version.version}")
    if as_json:
        print_json(summary)


def _announce_join(run_id: str) -> None:
    click.echo(f"run {run_id}: more workers join this search with\n  sigflow optimize --join {run_id} "
               "--storage URL   (the same storage; MLFLOW_TRACKING_URI set to the same tracking server)")


def _count(value: int | Path | None) -> int | None:
    return value if isinstance(value, int) else None


def _file(value: int | Path | None) -> Path | None:
    return value if isinstance(value, Path) else None
