"""The `sigflow` console script: the pipeline commands plus the ones that package, register and serve."""

from __future__ import annotations

import click

from pipelines.cli import cli, json_option, lm_option, print_json, run
from pipelines.cli_commands import COMMANDS as PIPELINE_COMMANDS
from serving.cli_commands import COMMANDS as SERVING_COMMANDS

for command in (*PIPELINE_COMMANDS, *SERVING_COMMANDS):
    cli.add_command(command)


@cli.command()
@click.option("--quick", is_flag=True, help="A small run (a few hundred passages, a handful of questions).")
@lm_option
@json_option
def demo(quick: bool, lm_model: str | None, as_json: bool) -> None:
    """Run the main job end to end: index, score, optimize, register, promote, serve, ask."""
    from dataclasses import asdict

    from serving.demo import FULL, QUICK, run_demo

    result = run_demo(lm_model, echo=click.echo, plan=QUICK if quick else FULL)
    if as_json:
        print_json(asdict(result))


def main() -> None:
    run(cli)
