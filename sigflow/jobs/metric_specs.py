"""Metrics named on the command line: `accuracy:FIELD`, `exact_match:FIELD`, `f1:FIELD`, `macro_f1:FIELD`, the
LM judges `answer_correct:FIELD` and `grounded:FIELD` (on the embedded model), a shipped program's own metric
by name, or the user's function as `path/to/file.py:function`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pipelines.evaluation.judges import answer_correct, grounded
from pipelines.evaluation.metrics import Metric, accuracy, as_metric, exact_match, macro_f1, token_f1
from sigflow.jobs.targets import import_object

BUILT_IN: dict[str, Callable[[str], Metric]] = {
    "accuracy": accuracy, "exact_match": exact_match, "f1": token_f1, "macro_f1": macro_f1,
    "answer_correct": lambda field: as_metric(answer_correct(field)),
    "grounded": lambda field: as_metric(grounded(field)),
}
UNLABELLED = {"grounded"}
"""Built-in metrics that judge the program's output without comparing it to a label."""


def metric_from_spec(spec: str, known: Mapping[str, Metric], outputs: set[str] | None = None) -> Metric:
    """The metric `spec` names. `known` are the program's own metrics; `outputs`, when given, are the fields
    the program can answer, which a built-in metric's field must be one of."""
    if spec in known:
        return known[spec]
    name, _, field = spec.partition(":")
    if name in BUILT_IN:
        if not field.isidentifier():
            raise ValueError(f"metric {spec!r} needs the output field it compares, e.g. {name}:label")
        if outputs is not None and field not in outputs:
            raise ValueError(f"metric {spec!r} compares the field {field!r}, which is no output of the program; "
                             f"its outputs are {', '.join(sorted(outputs))}")
        return BUILT_IN[name](field)
    if ":" in spec and name not in BUILT_IN:
        function = import_object(spec, "metric", kind="function")
        if not callable(function):
            raise ValueError(f"metric {spec} is a {type(function).__name__}, not a function (example, prediction)")
        return as_metric(function)
    choices = [*known, *(f"{built_in}:FIELD" for built_in in BUILT_IN), "path/to/file.py:function"]
    raise ValueError(f"unknown metric {spec!r}; choose one of {', '.join(choices)}")


def label_fields(metrics: list[Metric]) -> list[str]:
    """The data columns the built-in metrics compare against (a function metric reads what it likes)."""
    fields = []
    for metric in metrics:
        name, _, field = metric.name.partition(":")
        if name in BUILT_IN and name not in UNLABELLED and field and field not in fields:
            fields.append(field)
    return fields
