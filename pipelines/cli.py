"""The `sigflow` command group and its pipeline commands. Each command parses, calls one library function
and prints; library errors become one-line messages in `run`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from pipelines.lm.errors import BudgetExceeded, LMError

EXIT_USER_ERROR = 2
EXIT_LM_FAILURE = 1

lm_option = click.option("--lm", "lm_model", default=None, metavar="MODEL",
                         help="litellm model string (default: $SIGFLOW_LM, else the embedded local model).")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object as the last line of stdout.")


@click.group()
@click.version_option(package_name="sigflow")
def cli() -> None:
    """Declare LLM pipelines, optimize them against a metric, ship them as MLflow models."""


def print_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, sort_keys=True, default=str))


def run(command: Callable[..., Any], args: list[str] | None = None) -> None:
    """Run the click command; sigflow's typed errors exit with one line instead of a traceback."""
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # the commands report what matters themselves
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # bars for local copies of files
    try:
        command.main(args=args, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_USER_ERROR)
    except (ValueError, FileNotFoundError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except (LMError, BudgetExceeded) as error:
        click.echo(f"LM error: {error}", err=True)
        sys.exit(EXIT_LM_FAILURE)
