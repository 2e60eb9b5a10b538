"""`sigflow index build|add|remove`: a dataset's corpus embedded and saved as a FAISS store, and a store's
documents added or removed, a new store version each time."""

from __future__ import annotations

from pathlib import Path

import click

from sigflow.cli.options import data_dir_option, json_option, print_json
from sigflow.jobs.index import add_to_store, build_index, remove_from_store


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


store_option = click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
                            help="The store's directory (created by the first add).")


@index.command("add")
@store_option
@click.option("--group", "groups", multiple=True, metavar="NAME",
              help="A user group that may retrieve these documents (repeat for several); none: every caller.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
def add(store_dir, groups, paths, as_json) -> None:
    """Add documents (text, Markdown, PDF or JSONL files, or directories of them); only new or changed
    ones are embedded."""
    summary = add_to_store(store_dir, paths, groups)
    click.echo(summary["summary"])
    if as_json:
        print_json(summary)


@index.command("remove")
@store_option
@click.argument("document_ids", nargs=-1, required=True)
@json_option
def remove(store_dir, document_ids, as_json) -> None:
    """Remove documents by id (a file's name without its extension)."""
    summary = remove_from_store(store_dir, document_ids)
    click.echo(summary["summary"])
    if as_json:
        print_json(summary)
