"""`sigflow index build`: a dataset's corpus embedded and saved as a FAISS store."""

from __future__ import annotations

from pathlib import Path

import click

from sigflow.cli.options import data_dir_option, json_option, print_json
from sigflow.jobs.index import build_index


@click.group()
def index() -> None:
    """Vector store commands."""


@index.command("build")
@click.option("--dataset", required=True, help="bbc or hotpotqa.")
@data_dir_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to save the store in (default: the cache, where rag finds it).")
@json_option
def build(dataset, data_dir, out, as_json) -> None:
    """Embed a dataset's corpus and save its FAISS index."""
    summary = build_index(dataset, data_dir=data_dir, out=out)
    click.echo(f"indexed {summary['passages']} passages of {dataset} in {summary['seconds']} s")
    if as_json:
        print_json(summary)
