"""`sigflow serve` and `sigflow ui`: this process becomes an MLflow server over the group's tracking store."""

from __future__ import annotations

import os

import click

from serving.endpoint import serve_command, serve_environment, ui_command
from serving.registry import DEFAULT_ALIAS, aliased
from serving.tracking import TrackingStore
from sigflow.cli.options import tracked

host_option = click.option("--host", default="127.0.0.1", show_default=True)
port_option = click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)


@click.command()
@click.argument("model", metavar="NAME[@ALIAS]")
@host_option
@port_option
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="server processes, each with the model loaded; the embedded LM's cores are shared among them")
@click.pass_obj
@tracked
def serve(tracking: TrackingStore, model, host, port, workers) -> None:
    """Serve registered model NAME (at ALIAS, default champion) with `mlflow models serve`."""
    name, _, alias = model.partition("@")
    alias = alias or DEFAULT_ALIAS
    aliased(name, alias)  # a name or alias that resolves to nothing is one line, not the server's traceback
    model_uri = f"models:/{name}@{alias}"
    click.echo(f"serving {model_uri} at http://{host}:{port}/invocations (Ctrl-C stops)")
    _become(serve_command(model_uri, host, port, workers), serve_environment(tracking.uri, workers))


@click.command()
@host_option
@port_option
@click.pass_obj
@tracked
def ui(tracking: TrackingStore, host, port) -> None:
    """Browse the runs, trials and registered models in the MLflow UI."""
    click.echo(f"the MLflow UI at http://{host}:{port} (Ctrl-C stops)")
    _become(ui_command(tracking.uri, host, port), serve_environment(tracking.uri))


def _become(command: list[str], environment: dict[str, str]) -> None:
    """Replace this process by an MLflow server, so a signal meant for the command reaches the server and no
    server outlives it."""
    os.execve(command[0], command, environment)
