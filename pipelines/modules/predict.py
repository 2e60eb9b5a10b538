"""`Predict`: one LM step that follows a signature."""

from __future__ import annotations

from typing import Any

from pipelines import adapter
from pipelines.config import current_lm
from pipelines.demo_pool import DemoPool
from pipelines.lm.client import LM
from pipelines.modules.hints import HINT, HINT_DESC, current_hint
from pipelines.modules.module import Predictor
from pipelines.modules.trace import record_step
from pipelines.primitives import Example, Prediction
from pipelines.signatures import InputField, Signature, ensure_signature


class Predict(Predictor):
    """Fills a signature's outputs from its inputs. `demos` (examples with input and output fields) are
    shown as earlier turns of the conversation, or, with a `demo_pool`, the pool's nearest to each call's
    inputs; `config` (temperature, max_tokens, ...) goes to the LM. Text outputs named in `omitted` are not
    asked for and come back empty: a chain-of-thought step told to answer directly omits its reasoning.
    Inside `hinted(advice)` (a `Refine` attempt after the first) the advice is one more input."""

    def __init__(self, signature: str | Signature, *, lm: LM | None = None, **config: Any):
        self.signature = ensure_signature(signature)
        self.demos: list[Example] = []
        self.demo_pool: DemoPool | None = None
        self.omitted: tuple[str, ...] = ()
        self.lm = lm
        self.config = config

    def forward(self, **inputs: Any) -> Prediction:
        signature, asked = self.request(inputs)
        outputs = adapter.predict(self.lm or current_lm(), signature, self.demos_for(inputs), asked, **self.config)
        record_step(self, inputs, outputs)
        return Prediction({name: outputs.get(name, "") for name in self.signature.output_fields})

    def request(self, inputs: dict[str, Any]) -> tuple[Signature, dict[str, Any]]:
        """The signature and inputs this call sends, after checking the inputs: the asked signature, with the
        active `Refine` advice as one more input."""
        self._check_inputs(inputs)
        signature, asked = self.asked_signature(), inputs
        hint = current_hint()
        if hint is not None and HINT not in signature.input_fields:
            signature, asked = signature.append(HINT, InputField(desc=HINT_DESC)), {**inputs, HINT: hint}
        return signature, asked

    def asked_signature(self) -> Signature:
        """The signature without the omitted outputs: what the LM is asked to write."""
        return self.signature.delete(*self.omitted)

    def format_prompt(self, **inputs: Any) -> str:
        """The conversation this step would send for `inputs` (demos included) as readable text: no LM call."""
        self._check_inputs(inputs)
        messages = adapter.format_messages(self.asked_signature(), self.demos_for(inputs), inputs)
        return "\n\n".join(f"--- {message['role']} ---\n{message['content']}" for message in messages)

    def demos_for(self, inputs: dict[str, Any]) -> list[Example]:
        return self.demo_pool.nearest(inputs) if self.demo_pool is not None else self.demos

    def _check_inputs(self, inputs: dict[str, Any]) -> None:
        expected = self.signature.input_fields
        missing = [name for name in expected if name not in inputs]
        unknown = [name for name in inputs if name not in expected]
        if missing or unknown:
            problems = ([f"missing {missing}"] if missing else []) + ([f"unknown {unknown}"] if unknown else [])
            raise TypeError(f"{self.signature.spec!r} takes inputs {list(expected)}: {'; '.join(problems)}")

    def __repr__(self) -> str:
        demos = repr(self.demo_pool) if self.demo_pool is not None else len(self.demos)
        return f"Predict({self.signature.spec!r}, demos={demos})"
