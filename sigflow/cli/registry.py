"""`sigflow promote` and `sigflow models`: registry versions and the alias gated on their scores."""

from __future__ import annotations

import click

from serving.registry import promote as promote_version
from serving.registry import versions
from sigflow.cli.options import json_option, print_json, tracked


@click.command()
@click.argument("name")
@click.argument("version")
@click.option("--alias", default="champion", show_default=True)
@click.option("--force", is_flag=True, help="Promote even if the version scores below the alias's holder.")
@click.option("--reason", default=None, help="Why a forced promotion was made (recorded on the version).")
@json_option
@tracked
def promote(name, version, alias, force, reason, as_json) -> None:
    """Point ALIAS of model NAME at VERSION, if it scores at least the current holder."""
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
@tracked
def models(name, as_json) -> None:
    """List the versions of registered model NAME with their scores, tags and aliases."""
    found = versions(name)
    for info in found:
        tags = ", ".join(f"{key}={info.tags[key]}" for key in ("dataset", "metric", "optimizer") if key in info.tags)
        click.echo(f"{name} v{info.version}  score {info.score}  {tags}  "
                   f"{' '.join('@' + alias for alias in info.aliases)}")
    if as_json:
        print_json({"name": name, "versions": [info.to_dict() for info in found]})
