"""The commands that optimize, package, register and serve (added to `sigflow` by the entry point)."""

from __future__ import annotations

import os

import click

from pipelines.cli import json_option, lm_option, print_json
from pipelines.cli_commands import MLRUNS, data_dir_option, dataset_option, program_argument
from pipelines.lm.client import LM


@click.command()
@program_argument
@click.option("--optimizer", type=click.Choice(["labeled", "bootstrap", "random", "mipro"]), required=True)
@dataset_option
@data_dir_option
@click.option("--train", type=click.IntRange(min=1), default=None, help="Use the first N training examples.")
@click.option("--val", type=click.IntRange(min=1), default=None, help="Validate on the first N dev examples.")
@click.option("--budget-calls", type=click.IntRange(min=0), default=None, help="Most uncached LM calls to spend.")
@click.option("--budget-tokens", type=click.IntRange(min=0), default=None, help="Most LM tokens to spend.")
@click.option("--objectives", default="quality", show_default=True,
              help="quality, then optionally tokens and/or latency: a multi-objective mipro search.")
@click.option("--auto", type=click.Choice(["light", "medium", "heavy"]), default="light", show_default=True,
              help="How much a mipro search does.")
@click.option("--resume", is_flag=True, help="Continue the latest interrupted mipro search of this program.")
@click.option("--dry-run", is_flag=True, help="Print the estimated LM calls and stop before making any.")
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--register", "register_as", default=None, metavar="NAME",
              help="Log the optimized program as a model and register it as a new version of NAME.")
@lm_option
@json_option
def optimize(program, optimizer, dataset, data_dir, train, val, budget_calls, budget_tokens, objectives, auto,
             resume, dry_run, threads, seed, register_as, lm_model, as_json) -> None:
    """Make PROGRAM better on its dataset: demos and instructions searched under a budget, tracked in MLflow."""
    from pipelines import tracking
    from pipelines.optimization import OptimizeRequest, estimate_optimization, optimize_program

    request = OptimizeRequest(program, optimizer, dataset, data_dir, train, val, budget_calls, budget_tokens,
                              tuple(name.strip() for name in objectives.split(",") if name.strip()), auto, resume,
                              threads, seed)
    if dry_run:
        estimate = estimate_optimization(request)
        click.echo(f"estimated at most {estimate['lm_calls']} LM calls: {estimate['optimizer_lm_calls']} by the "
                   f"optimizer, {estimate['evaluation_lm_calls']} to score the program before and after")
        if as_json:
            print_json({"dry_run": True, **estimate})
        return
    tracking.use_local_store(MLRUNS)
    lm = LM(lm_model)
    report = optimize_program(request, lm=lm, studies_dir=MLRUNS / "studies")
    summary = report.summary()
    if register_as:
        from serving.publish import publish

        version = publish(report.program, lm=lm, run_id=report.run_id, name=register_as, scores={
            "dataset": summary["dataset"], "metric": summary["metric"], "score": summary["score"],
            "optimizer": optimizer})
        summary.update(model_uri=f"models:/{register_as}/{version.version}", registered_version=version.version)
    click.echo(f"{program} on {summary['dataset']} with {optimizer}: {summary['metric']} "
               f"{summary['baseline_score']:.3f} -> {summary['score']:.3f} over {summary['n']} dev examples")
    click.echo(f"{summary['lm_calls']} LM calls ({summary['optimizer_lm_calls']} optimizing, estimated at most "
               f"{summary['estimated_lm_calls']} in all), {summary['cache_hits']} cache hits, "
               f"{summary['seconds']:.1f} s; MLflow run {summary['run_id']}")
    if summary["stopped_by_budget"]:
        click.echo("the budget ran out: this is the best program found before it did")
    if register_as:
        click.echo(f"registered {summary['model_uri']}; promote it with: sigflow promote {register_as} "
                   f"{summary['registered_version']}")
    if as_json:
        print_json(summary)


@click.command()
@click.argument("name")
@click.argument("version")
@click.option("--alias", default="champion", show_default=True)
@click.option("--force", is_flag=True, help="Promote even if the version scores below the alias's holder.")
@click.option("--reason", default=None, help="Why a forced promotion was made (recorded on the version).")
@json_option
def promote(name, version, alias, force, reason, as_json) -> None:
    """Point ALIAS of model NAME at VERSION, if it scores at least the current holder."""
    from pipelines import tracking
    from serving.registry import promote as promote_version

    tracking.use_local_store(MLRUNS)
    result = promote_version(name, version, alias=alias, force=force, reason=reason)
    previous = (f" (was version {result['previous_version']}, score {result['previous_score']})"
                if result["previous_version"] else "")
    click.echo(f"models:/{name}@{alias} is version {result['version']}, score {result['score']}{previous}"
               + ("; forced" if result["forced"] else ""))
    if as_json:
        print_json(result)


@click.command()
@click.argument("name")
@json_option
def models(name, as_json) -> None:
    """List the versions of registered model NAME with their scores, tags and aliases."""
    from pipelines import tracking
    from serving.registry import versions

    tracking.use_local_store(MLRUNS)
    found = versions(name)
    for info in found:
        tags = ", ".join(f"{key}={info.tags[key]}" for key in ("dataset", "metric", "optimizer") if key in info.tags)
        click.echo(f"{name} v{info.version}  score {info.score}  {tags}  "
                   f"{' '.join('@' + alias for alias in info.aliases)}")
    if as_json:
        print_json({"name": name, "versions": [info.to_dict() for info in found]})


@click.command()
@click.argument("model", metavar="NAME[@ALIAS]")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
def serve(model, host, port) -> None:
    """Serve registered model NAME (at ALIAS, default champion) with `mlflow models serve`."""
    from pipelines import tracking
    from serving.endpoint import serve_command

    tracking.use_local_store(MLRUNS)
    name, _, alias = model.partition("@")
    model_uri = f"models:/{name}@{alias or 'champion'}"
    click.echo(f"serving {model_uri} at http://{host}:{port}/invocations (Ctrl-C stops)")
    _become(serve_command(model_uri, host, port))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
def ui(host, port) -> None:
    """Browse the runs, trials and registered models in the MLflow UI."""
    from pipelines import tracking
    from serving.endpoint import ui_command

    tracking.use_local_store(MLRUNS)
    click.echo(f"the MLflow UI at http://{host}:{port} (Ctrl-C stops)")
    _become(ui_command(host, port))


def _become(command: list[str]) -> None:
    """Replace this process by an MLflow server, so a signal meant for the command reaches the server and no
    server outlives it."""
    from serving.endpoint import serve_environment

    os.execve(command[0], command, serve_environment())


COMMANDS = (optimize, promote, models, serve, ui)
