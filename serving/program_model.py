"""The PyFunc model that serves a sigflow program: `load_context` rebuilds the program once (state, vector
store, embedder, and the embedded model's workers); `predict` answers a table of inputs, row by row in
parallel through the LM door, one column per output field."""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, TEMPORARILY_UNAVAILABLE
from mlflow.pyfunc import PythonModel

from pipelines.adapter import ParseError
from pipelines.config import context as lm_context
from pipelines.fieldtypes import to_jsonable
from pipelines.lm.client import LM
from pipelines.lm.errors import LMError
from pipelines.lm.local.pool import shared_pool
from pipelines.modules import Module, Retrieve
from pipelines.parallel import parallel_map
from pipelines.retrieval.filters import caller_groups
from pipelines.settings import LOCAL_MODEL, local_workers
from serving.bundle import Bundle, read_bundle, takes_k
from serving.requests import ERROR_COLUMN, Params, RequestError, rows
from serving.trace_collector import named_experiment_id

log = logging.getLogger(__name__)


def _resolve_trace_experiment() -> None:
    """Make the experiment the environment names the active one, once: otherwise MLflow looks it up in the
    store again as each request's trace starts."""
    if experiment_id := named_experiment_id():
        mlflow.set_experiment(experiment_id=experiment_id)


def _flush_traces_on_sigterm() -> None:
    """Make SIGTERM first send the traces still waiting in their batches, then do what it did before. A
    stopped model server would otherwise lose them: uvicorn shuts down, then raises the signal again with the
    default handler, and the process dies without its exit hooks. A server of one worker loads the model
    before uvicorn takes the signal, so this runs after the last request; the workers of several load it
    under uvicorn's handler, so this runs first and a request still in flight then may go untraced."""
    previous = signal.getsignal(signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or previous in (signal.SIG_IGN, None):
        return
    flushed = threading.Event()

    def flush_then_go_on(signum: int, frame: Any) -> None:
        if not flushed.is_set():  # a worker gets the signal twice, from the session and from its parent
            flushed.set()
            _flush_traces()
        if callable(previous):
            previous(signum, frame)
        else:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, flush_then_go_on)


def _flush_traces() -> None:
    from mlflow.tracing.provider import provider  # its OTLP batches are flushed by an exit hook only

    provider.get().force_flush()
    mlflow.flush_trace_async_logging()


@dataclass(frozen=True)
class ServedProgram:
    """A program rebuilt from its bundle, ready to answer: what both served forms (DataFrame and chat) hold."""

    program: Module
    lm: LM
    bundle: Bundle
    default_k: int | None
    """The `k` a request may override, or None when the program's `forward` takes none."""


def load_served_program(artifacts: dict[str, str], model_dir: Path, *, serving: bool = True) -> ServedProgram:
    """Rebuild the program and, when `serving`, load now what its first request would otherwise wait for
    (the embedder, the embedded model's workers, the trace experiment) and keep traces on SIGTERM. MLflow
    also loads a chat model while logging it: then it is only rebuilt."""
    program, lm, bundle = read_bundle(artifacts, root=model_dir)
    retrievers = program.named_modules(Retrieve)
    if serving:
        for _, retrieve in retrievers:
            retrieve.store.embedder.encode(["warm up"])
        if lm.model == LOCAL_MODEL:
            shared_pool().warm_up()
        _resolve_trace_experiment()
        _flush_traces_on_sigterm()
    return ServedProgram(program, lm, bundle, _default_k(program, retrievers))


class ProgramModel(PythonModel):
    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        """The loaded model's directory: no artifact may be read from outside it."""

    def load_context(self, context) -> None:
        served = load_served_program(context.artifacts, self.model_dir)
        self.program, self.lm, self.bundle, self.default_k = served.program, served.lm, served.bundle, served.default_k

    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        try:
            settings = Params.read(params, default_k=self.default_k or Params.defaults()["k"])
            per_row = settings.failures == "row"
            inputs = rows(model_input, self.bundle.input_fields, per_row=per_row)
        except RequestError as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from error
        lm = self.lm.copy(max_tokens=settings.max_tokens, temperature=settings.temperature)
        extra = {"k": settings.k} if self.default_k is not None else {}
        with mlflow.start_span(name=f"sigflow {type(self.program).__name__}", span_type="CHAIN") as span:
            span.set_inputs({"rows": inputs, "params": settings.model_dump()})
            with lm_context(lm=lm), caller_groups(settings.groups):
                answers = parallel_map(lambda row: self._answer(row, extra, per_row), inputs,
                                       num_threads=max(1, 2 * local_workers()))
            span.set_outputs(answers)
        return pd.DataFrame(answers)

    def _answer(self, row: dict[str, str] | RequestError, extra: dict[str, Any], per_row: bool) -> dict[str, Any]:
        """One row's outputs; an unreadable reply is that row's `error`, and so, `per_row`, are a bad input
        and a failing LM, which otherwise fail the request."""
        if isinstance(row, RequestError):
            return {ERROR_COLUMN: str(row)}
        try:
            outputs = to_jsonable(self.program(**row, **extra).to_dict())
            return {**outputs, ERROR_COLUMN: ""}
        except ParseError as error:
            return {ERROR_COLUMN: f"the model's reply could not be read: {error}"}
        except LMError as error:
            if per_row:
                return {ERROR_COLUMN: f"the LM failed: {error}"}
            raise MlflowException(f"the LM failed: {error}", error_code=TEMPORARILY_UNAVAILABLE) from error


def _default_k(program: Module, retrievers: list[tuple[str, Retrieve]]) -> int | None:
    """The `k` a request may override, or None when the program's `forward` takes no `k`."""
    if not takes_k(program):
        return None
    return retrievers[0][1].k if retrievers else Params.defaults()["k"]
