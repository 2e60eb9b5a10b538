"""The `sigflow` command: one group, every command a few lines over a job, and library errors turned into
one-line messages in `main`. The tracking store is decided once, by the group."""

from __future__ import annotations

import os
import sys

import click

from pipelines.adapter import ParseError
from pipelines.evaluation.evaluate import TooManyErrors
from pipelines.lm.errors import BudgetExceeded, LMError
from serving.tracking import TrackingStore
from sigflow.cli.batch import batch
from sigflow.cli.demo import demo
from sigflow.cli.evaluate import evaluate, predict, rescore
from sigflow.cli.index import index
from sigflow.cli.optimize import optimize
from sigflow.cli.options import MLRUNS
from sigflow.cli.registry import models, promote
from sigflow.cli.servers import serve, ui

EXIT_USER_ERROR = 2
EXIT_LM_FAILURE = 1


@click.group()
@click.version_option(package_name="sigflow")
@click.pass_context
def cli(context: click.Context) -> None:
    """Declare LLM pipelines, optimize them against a metric, ship them as MLflow models."""
    context.obj = TrackingStore.resolve(MLRUNS)


for command in (demo, evaluate, predict, rescore, index, optimize, batch, promote, models, serve, ui):
    cli.add_command(command)


def main(args: list[str] | None = None) -> None:
    """Run the command; sigflow's typed errors exit with one line instead of a traceback."""
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # the commands report what matters themselves
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # bars for local copies of files
    try:
        cli.main(args=args, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_USER_ERROR)
    except ParseError as error:  # the model's answer, not the user's mistake
        click.echo(f"the model's reply could not be read: {error}", err=True)
        sys.exit(EXIT_LM_FAILURE)
    except (ValueError, FileNotFoundError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except (LMError, BudgetExceeded) as error:
        click.echo(f"LM error: {error}", err=True)
        sys.exit(EXIT_LM_FAILURE)
    except TooManyErrors as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_LM_FAILURE)


__all__ = ["cli", "main"]
