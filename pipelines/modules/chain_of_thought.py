"""`ChainOfThought`: a `Predict` whose signature gains a `reasoning` output before the others."""

from __future__ import annotations

from typing import Any

from pipelines.modules.module import Module
from pipelines.modules.predict import Predict
from pipelines.primitives import Prediction
from pipelines.signatures import OutputField, Signature, ensure_signature

REASONING = "reasoning"
REASONING_DESC = "think step by step, in a few short sentences"


class ChainOfThought(Module):
    def __init__(self, signature: str | Signature, *, reasoning_desc: str = REASONING_DESC, **config: Any):
        extended = ensure_signature(signature).prepend(REASONING, OutputField(desc=reasoning_desc))
        self.predict = Predict(extended, **config)

    def forward(self, **inputs: Any) -> Prediction:
        return self.predict(**inputs)
