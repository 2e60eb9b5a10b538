"""`sigflow demo`: the main job end to end on the embedded defaults."""

from __future__ import annotations

from dataclasses import asdict

import click

from pipelines.lm.client import LM
from serving.tracking import TrackingStore
from sigflow.cli.options import MLRUNS, json_option, lm_option, print_json
from sigflow.jobs.demo import FULL, QUICK, run_demo


@click.command()
@click.option("--quick", is_flag=True, help="A small run (a few hundred passages, a handful of questions).")
@lm_option
@json_option
@click.pass_obj
def demo(tracking: TrackingStore, quick: bool, lm_model: str | None, as_json: bool) -> None:
    """Run the main job end to end: index, score, optimize, register, promote, serve, ask."""
    result = run_demo(LM(lm_model), click.echo, tracking=tracking, studies_dir=MLRUNS / "studies",
                      plan=QUICK if quick else FULL)
    if as_json:
        print_json(asdict(result))
