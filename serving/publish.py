"""A program published: logged as a model (in the run that scored it, or a new one), proved to load and
answer in a fresh process, then registered as a new version tagged with how it scored and with its check."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipelines.lm.client import LM
from pipelines.lm.transports import in_process_only
from pipelines.modules import Module
from serving import tracking
from serving.bundle import store_versions
from serving.load_check import check_model
from serving.packaging import chat_request, example_row, log_program_model
from serving.registry import VersionInfo, register
from serving.tracking import mlflow_module


def publish(program: Module, *, lm: LM, name: str, scores: dict[str, Any] | None = None,
            run_id: str | None = None, example: dict[str, str] | None = None, ask: bool = True,
            chat: bool = False, prompts: Mapping[str, str] | None = None) -> VersionInfo:
    """Log `program` into run `run_id` (by default a new run), check that the logged model loads and answers
    `example` in a fresh process, and only then register it as a version of `name`, tagged with `scores`
    (dataset, metric, score, optimizer), its fingerprint and its load check. A model that fails the check
    raises `LoadCheckFailed` and is not registered. A program that retrieves is tagged with the version of
    each store it searches (`store_versions`). `ask=False` only loads it (for a provider this machine
    cannot reach); an LM that answers only in this process (a scripted one) is never asked. `chat` publishes
    the chat form (an MLflow `ResponsesAgent`) instead of the DataFrame one. `prompts` (step -> prompt URI,
    as `genai.register_instructions` gives them) are linked to the logged model and named by the version's
    `prompts` tag."""
    mlflow = mlflow_module()
    scores = scores or {}
    row = example_row(program, example)
    with tracking.run(f"publish {name}", scores, resume_id=run_id) as active_id:
        info = log_program_model(program, lm=lm, example=row, chat=chat, prompts=list((prompts or {}).values()))
        mlflow.set_tags({"sigflow.model_uri": info.model_uri, "sigflow.interface": "chat" if chat else "dataframe"})
        check = check_model(info.model_uri, tracking_uri=mlflow.get_tracking_uri(),
                            example=chat_request(row) if chat else [row], ask=ask and not in_process_only(lm.model))
        mlflow.set_tags({f"sigflow.{key}": value for key, value in check.tags().items()})
    versions = store_versions(program)
    return register(info.model_uri, name, {**scores, "fingerprint": program.fingerprint(), "run_id": active_id,
                                           "interface": "chat" if chat else "dataframe",
                                           **({"store_versions": json.dumps(versions)} if versions else {}),
                                           **({"prompts": json.dumps(dict(prompts))} if prompts else {}),
                                           **check.tags()})
