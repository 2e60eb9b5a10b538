"""What the commands share: their options, JSON output, and the tracking store the group decided."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from serving.tracking import TrackingStore

MLRUNS = Path("mlruns")
"""The local tracking store, used unless `$MLFLOW_TRACKING_URI` names another."""

lm_option = click.option("--lm", "lm_model", default=None, metavar="MODEL",
                         help="litellm model string (default: $SIGFLOW_LM, else the embedded local model).")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON object as the last line of stdout.")
program_argument = click.argument("program", metavar="TARGET")
"""A shipped program (classify, rag) or the user's own: path/to/file.py:Class or package.module:Class."""
metric_option = click.option("--metric", "metrics", multiple=True, metavar="NAME:FIELD|FILE.py:FUNCTION",
                             help="accuracy, exact_match, f1 or macro_f1 on an output field, or your function "
                                  "(example, prediction) -> score as FILE.py:FUNCTION or module:function; repeat "
                                  "for more; the first is the score.")
dataset_option = click.option("--dataset", default=None,
                               help="trec (classify), bbc or hotpotqa (rag, multihop), bbc-agent (agent).")
data_dir_option = click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                               help="Directory of the hotpotqa files (e.g. ../shared/data/hotpotqa).")
state_option = click.option("--state", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                            default=None, help="Program state JSON to load (from optimize).")
threads_option = click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True)


class CountOrFile(click.ParamType):
    """`--train` and `--val`: a number of a shipped dataset's examples, or a file of the user's own."""

    name = "N|FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | Path:
        if isinstance(value, int | Path):
            return value
        if str(value).isdigit():
            if int(value) < 1:
                self.fail(f"{value} is not a positive count", param, ctx)
            return int(value)
        return Path(value)


def print_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, sort_keys=True, default=str))


def tracked(command: Callable[..., Any]) -> Callable[..., Any]:
    """For commands that read or write MLflow: the store the group decided is made active first."""
    @functools.wraps(command)
    def with_store(*args: Any, **kwargs: Any) -> Any:
        click.get_current_context().find_object(TrackingStore).activate()
        return command(*args, **kwargs)

    return with_store
