"""`Predict`: one LM step that follows a signature."""

from __future__ import annotations

from typing import Any

from pipelines import adapter
from pipelines.config import current_lm
from pipelines.lm.client import LM
from pipelines.modules.module import Predictor
from pipelines.modules.trace import record_step
from pipelines.primitives import Example, Prediction
from pipelines.signatures import Signature, ensure_signature


class Predict(Predictor):
    """Fills a signature's outputs from its inputs. `demos` (examples with input and output fields) are
    shown as earlier turns of the conversation; `config` (temperature, max_tokens, ...) goes to the LM."""

    def __init__(self, signature: str | Signature, *, lm: LM | None = None, **config: Any):
        self.signature = ensure_signature(signature)
        self.demos: list[Example] = []
        self.lm = lm
        self.config = config

    def forward(self, **inputs: Any) -> Prediction:
        self._check_inputs(inputs)
        outputs = adapter.predict(self.lm or current_lm(), self.signature, self.demos, inputs, **self.config)
        record_step(self, inputs, outputs)
        return Prediction(outputs)

    def format_prompt(self, **inputs: Any) -> str:
        """The conversation this step would send for `inputs` (demos included) as readable text: no LM call."""
        self._check_inputs(inputs)
        messages = adapter.format_messages(self.signature, self.demos, inputs)
        return "\n\n".join(f"--- {message['role']} ---\n{message['content']}" for message in messages)

    def _check_inputs(self, inputs: dict[str, Any]) -> None:
        expected = self.signature.input_fields
        missing = [name for name in expected if name not in inputs]
        unknown = [name for name in inputs if name not in expected]
        if missing or unknown:
            problems = ([f"missing {missing}"] if missing else []) + ([f"unknown {unknown}"] if unknown else [])
            raise TypeError(f"{self.signature.spec!r} takes inputs {list(expected)}: {'; '.join(problems)}")

    def __repr__(self) -> str:
        return f"Predict({self.signature.spec!r}, demos={len(self.demos)})"
