"""The `sigflow` console script: the pipeline commands plus the ones that package, register and serve."""

from __future__ import annotations

import click

import pipelines.cli_commands  # noqa: F401 (registers the pipeline commands on the group)
from pipelines.cli import cli, lm_option, run


@cli.command()
@lm_option
def demo(lm_model: str | None) -> None:
    """Run the main job end to end on the embedded defaults."""
    from serving.demo import run_demo

    run_demo(lm_model, echo=click.echo)


def main() -> None:
    run(cli)
