"""The chat form of a served program, an MLflow `ResponsesAgent`: the last user message of a request is the
program's one input, and the answer comes back as the final message, after the steps an agent took (each
thought a reasoning item, each tool call a function call and its output). `predict_stream` sends each step
as it is taken. Requests are checked before any LM call; a bad one is an HTTP 400."""

from __future__ import annotations

import contextvars
import json
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, TEMPORARILY_UNAVAILABLE
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import ResponsesAgentRequest, ResponsesAgentResponse, ResponsesAgentStreamEvent

from pipelines.adapter import ParseError
from pipelines.config import context as lm_context
from pipelines.fieldtypes import to_jsonable
from pipelines.lm.errors import LMError
from pipelines.modules.react import TRAJECTORY, watching_steps
from pipelines.primitives import Prediction
from pipelines.retrieval.filters import caller_groups
from pipelines.tools import FINISH
from serving.program_model import load_served_program
from serving.requests import MAX_TEXT_CHARS, Params, RequestError

Item = dict[str, Any]
_DONE = object()


class ChatProgramModel(ResponsesAgent):
    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        """The loaded model's directory: no artifact may be read from outside it."""

    def load_context(self, context) -> None:
        # MLflow also loads and asks a chat model while logging it, from this source file and the bundle's
        # temporary files: only then is the bundle's own directory the bound.
        logging_now = self.model_dir == Path(__file__).resolve().parent
        root = Path(context.artifacts["program"]).resolve().parent if logging_now else self.model_dir
        self.served = load_served_program(context.artifacts, root, serving=not logging_now)
        (self.input_field,) = self.served.bundle.input_fields  # publishing refuses programs of other inputs

    def predict(self, request: ResponsesAgentRequest) -> ResponsesAgentResponse:
        prediction = self._answer(request, on_step=lambda step: None)
        steps = [item for step in prediction.get(TRAJECTORY, []) for item in step_items(step)]
        final, custom = reply_items(prediction)
        return ResponsesAgentResponse(output=[*steps, *final], custom_outputs=custom)

    def predict_stream(self, request: ResponsesAgentRequest) -> Iterator[ResponsesAgentStreamEvent]:
        arrived: queue.Queue = queue.Queue()
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["prediction"] = self._answer(request, on_step=lambda step: arrived.put(step_items(step)))
            except BaseException as error:  # raised again in the request's thread
                outcome["error"] = error
            finally:
                arrived.put(_DONE)

        worker = threading.Thread(target=contextvars.copy_context().run, args=(run,), name="sigflow-chat",
                                  daemon=True)  # a client gone mid-answer does not keep the server up
        worker.start()
        while (items := arrived.get()) is not _DONE:
            for item in items:
                yield ResponsesAgentStreamEvent(type="response.output_item.done", item=item)
        worker.join()
        if "error" in outcome:
            raise outcome["error"]
        final, custom = reply_items(outcome["prediction"])
        for index, item in enumerate(final):
            yield ResponsesAgentStreamEvent(type="response.output_item.done", item=item,
                                            custom_outputs=custom if index == len(final) - 1 else None)

    def _answer(self, request: ResponsesAgentRequest, on_step: Callable[[Any], None]) -> Prediction:
        text = user_text(request)
        given = {name: value for name, value in (("temperature", request.temperature),
                                                 ("max_tokens", request.max_output_tokens)) if value is not None}
        groups = (request.custom_inputs or {}).get("groups")
        try:
            settings = Params.read({**given, "groups": groups}, default_k=Params.defaults()["k"])
        except RequestError as error:
            raise _bad_request(str(error).replace("'max_tokens'", "'max_output_tokens'")
                               .replace("param 'groups'", "custom_inputs 'groups'")) from None
        lm = self.served.lm.copy(temperature=settings.temperature, max_tokens=settings.max_tokens) if given \
            else self.served.lm
        try:
            with lm_context(lm=lm), caller_groups(settings.groups), watching_steps(on_step):
                return self.served.program(**{self.input_field: text})
        except ParseError as error:
            return Prediction(error=f"the model's reply could not be read: {error}")
        except LMError as error:
            raise MlflowException(f"the LM failed: {error}", error_code=TEMPORARILY_UNAVAILABLE) from error


def user_text(request: ResponsesAgentRequest) -> str:
    """The text of the request's last message, which must be the user's."""
    if not request.input:
        raise _bad_request('the request has no input message; send {"input": [{"role": "user", "content": ...}]}')
    last = request.input[-1]
    last = last.model_dump() if hasattr(last, "model_dump") else dict(last)
    if last.get("role") != "user":
        raise _bad_request(f"the last input message must be the user's, got role {last.get('role')!r}")
    content = last.get("content")
    if isinstance(content, list):
        content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    if not isinstance(content, str) or not content.strip():
        raise _bad_request("the last user message has no text")
    if len(content) > MAX_TEXT_CHARS:
        raise _bad_request(f"the last user message has {len(content)} characters; at most {MAX_TEXT_CHARS} fit")
    return content


def step_items(step: Any) -> list[Item]:
    """An agent's step as output items: its thought, and the tool call with its output if the tool ran."""
    step = to_jsonable(step if isinstance(step, dict) else vars(step))
    items = [ResponsesAgent.create_reasoning_item(_new_id(), step["thought"])] if step["thought"] else []
    if step["tool"] and step["tool"] != FINISH and not step.get("ends_run"):
        call_id = _new_id()
        items += [ResponsesAgent.create_function_call_item(_new_id(), call_id, step["tool"],
                                                           json.dumps(step["arguments"], ensure_ascii=False)),
                  ResponsesAgent.create_function_call_output_item(call_id, step["observation"])]
    return items


def reply_items(prediction: Prediction) -> tuple[list[Item], dict[str, Any]]:
    """The final message (the `answer` field, else the first text output other than reasoning) and the
    other outputs as custom outputs."""
    outputs = to_jsonable(prediction.to_dict())
    outputs.pop(TRAJECTORY, None)
    if "error" in outputs:
        return [ResponsesAgent.create_text_output_item(f"error: {outputs['error']}", _new_id())], outputs
    name = "answer" if "answer" in outputs else next(
        (key for key, value in outputs.items() if isinstance(value, str) and key != "reasoning"), None)
    text = str(outputs.pop(name)) if name is not None else ""
    return [ResponsesAgent.create_text_output_item(text, _new_id())], outputs


def _bad_request(message: str) -> MlflowException:
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def _new_id() -> str:
    return uuid4().hex
