"""sigflow in MLflow's GenAI tools: metrics and judges as MLflow scorers, `mlflow.genai.evaluate` over a
program (results in the experiment's Evaluations tab, each row a trace with its assessments), and the
instructions an optimizer chose as versions in MLflow's prompt registry."""

from __future__ import annotations

import contextvars
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from unittest import mock

from pipelines.evaluation.metrics import Feedback, Metric, as_metric
from pipelines.fieldtypes import to_jsonable
from pipelines.modules import Module
from pipelines.primitives import Example
from pipelines.settings import local_workers
from serving.tracking import mlflow_module

log = logging.getLogger(__name__)

PROMPT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
"""What MLflow's prompt names may not hold: anything but letters, digits, `_`, `.` and `-`."""


def as_scorer(metric: Metric | Callable[..., Any]) -> Any:
    """An MLflow scorer that scores a row as `metric` scores the program's outputs against the example (its
    inputs and expectations): the score as the assessment's value, a judge's rationale as its rationale.
    It runs in the context it was made in (the LM, budgets and usage scopes), whatever thread MLflow uses."""
    from mlflow.entities import Feedback as Assessment
    from mlflow.genai.scorers import scorer

    metric, made_in = as_metric(metric), contextvars.copy_context()

    def score(inputs: dict[str, Any], outputs: dict[str, Any], expectations: dict[str, Any]) -> Assessment:
        example = Example({**inputs, **(expectations or {})}).with_inputs(*inputs)
        value = made_in.copy().run(metric.score, example, outputs)
        return Assessment(value=float(value), rationale=value.text if isinstance(value, Feedback) else None)

    return scorer(score, name=metric.name)


def genai_data(examples: Sequence[Example]) -> list[dict[str, Any]]:
    """Examples as `mlflow.genai.evaluate` rows: the inputs, and the labels as expectations."""
    return [{"inputs": to_jsonable(example.inputs()), "expectations": to_jsonable(example.labels())}
            for example in examples]


def predict_fn(program: Module) -> Callable[..., dict[str, Any]]:
    """The program as `mlflow.genai.evaluate` calls it: inputs as keywords, its outputs as a JSON dict, run
    in the context the function was made in (MLflow calls it from threads of its own)."""
    made_in = contextvars.copy_context()

    def predict(**inputs: Any) -> dict[str, Any]:
        return to_jsonable(made_in.copy().run(program, **inputs).to_dict())

    return predict


def genai_evaluate(program: Module, examples: Sequence[Example], metrics: Sequence[Metric | Callable[..., Any]],
                   *, num_threads: int | None = None) -> Any:
    """`mlflow.genai.evaluate` of `program` on `examples` with `metrics` as scorers, in the active MLflow
    experiment; returns MLflow's result (`run_id`, `metrics` such as `exact_match:answer/mean`,
    `result_df`). Rows run `num_threads` at a time (default: the embedded model's workers), and MLflow's
    extra call of the program to see whether it traces is skipped: sigflow's programs trace themselves."""
    mlflow = mlflow_module()
    traced = mlflow.trace(predict_fn(program), name=type(program).__name__, span_type="CHAIN")
    settings = {"MLFLOW_GENAI_EVAL_MAX_WORKERS": str(num_threads or local_workers()),
                "MLFLOW_GENAI_EVAL_SKIP_TRACE_VALIDATION": "true", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    with mock.patch.dict(os.environ, settings):  # MLflow reads these when it runs
        return mlflow.genai.evaluate(data=genai_data(examples), predict_fn=traced,
                                     scorers=[as_scorer(metric) for metric in metrics])


def prompt_name(program: str, step: str) -> str:
    """The registry name of a program's step: `rag.generate.predict`; other characters become `-`."""
    return PROMPT_NAME.sub("-", f"{program}.{step}").strip("-.") or "program"


def register_instructions(program: Module, program_name: str, tags: Mapping[str, str]) -> dict[str, str]:
    """Each predictor's instruction as a version of the prompt named after the program and step, tagged
    with `tags` (the run, the score); an instruction equal to the latest version's is that version, not a
    new one. Returns each step's prompt URI (`prompts:/rag.generate.predict/3`)."""
    mlflow = mlflow_module()
    uris = {}
    for step, predictor in program.named_predictors():
        name, instruction = prompt_name(program_name, step), predictor.signature.instructions
        latest = _latest(name)
        if latest is not None and latest.template == instruction:
            version = latest
        else:
            version = mlflow.genai.register_prompt(name=name, template=instruction, tags={"step": step},
                                                   commit_message=f"chosen for {program_name}'s step {step}")
        for key, value in tags.items():
            mlflow.genai.set_prompt_version_tag(name, version.version, key, str(value))
        uris[step] = f"prompts:/{name}/{version.version}"
    return uris


def register_chosen_instructions(program: Module, program_name: str, tags: Mapping[str, str]) -> dict[str, str]:
    """`register_instructions`, or nothing (with a warning) where the tracking store has no prompt registry:
    an optimization does not fail for want of one."""
    from mlflow.exceptions import MlflowException

    try:
        return register_instructions(program, program_name, tags)
    except MlflowException as error:
        log.warning("the chosen instructions were not registered as prompts: %s", error)
        return {}


def _latest(name: str) -> Any:
    mlflow = mlflow_module()
    return mlflow.genai.load_prompt(name, allow_missing=True, link_to_model=False, cache_ttl_seconds=0)
