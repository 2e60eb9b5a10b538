"""The `sigflow` console script: the pipeline commands plus the ones that package, register and serve."""

from __future__ import annotations

import click

from pipelines.cli import cli, lm_option, run
from pipelines.cli_commands import COMMANDS as PIPELINE_COMMANDS
from serving.cli_commands import COMMANDS as SERVING_COMMANDS

for command in (*PIPELINE_COMMANDS, *SERVING_COMMANDS):
    cli.add_command(command)


@cli.command()
@lm_option
def demo(lm_model: str | None) -> None:
    """Run the main job end to end on the embedded defaults."""
    from serving.demo import run_demo

    run_demo(lm_model, echo=click.echo)


def main() -> None:
    run(cli)
