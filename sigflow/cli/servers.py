"""`sigflow serve` and `sigflow ui`: this process becomes an MLflow server over the group's tracking store, or,
serving with a local store, runs one beside the trace collector that writes its traces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import click

from serving.endpoint import serve_command, serve_environment, start_collector, stop_session, ui_command
from serving.registry import DEFAULT_ALIAS, aliased
from serving.trace_collector import exporter_environment, wants_collector
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
    command, environment = serve_command(model_uri, host, port, workers), serve_environment(tracking.uri, workers)
    click.echo(f"serving {model_uri} at http://{host}:{port}/invocations (Ctrl-C stops)")
    if not wants_collector(tracking.uri):
        _become(command, environment)
    collector = start_collector(tracking.uri, host)  # a local store: traces are written by their own process
    try:
        sys.exit(_supervised(command, environment | exporter_environment(collector.url)))
    finally:
        collector.stop()


@click.command()
@host_option
@port_option
@click.pass_obj
@tracked
def ui(tracking: TrackingStore, host, port) -> None:
    """Browse the runs, trials and registered models in the MLflow UI."""
    click.echo(f"the MLflow UI at http://{host}:{port} (Ctrl-C stops)")
    _become(ui_command(tracking.uri, host, port), serve_environment(tracking.uri))


def _supervised(command: list[str], environment: dict[str, str]) -> int:
    """Run the server in a session of its own until it ends; Ctrl-C or SIGTERM here is passed on to it.
    Every process of its session has ended on return, so the caller stops the collector only after the
    server's last traces."""
    server = subprocess.Popen(command, env=environment, start_new_session=True)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.send_signal(signal.SIGTERM))
    code = server.wait()
    stop_session(server)  # uvicorn and the embedded model's workers end after the command itself
    return code


def _become(command: list[str], environment: dict[str, str]) -> None:
    """Replace this process by an MLflow server, so a signal meant for the command reaches the server and no
    server outlives it."""
    os.execve(command[0], command, environment)
