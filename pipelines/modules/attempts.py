"""`BestOfN` and `Refine`: several attempts at the same inputs, the best by a reward kept.

The first attempt is the module as it is (its own temperature, the shared cache entry); each later one is a
sample of its own at a rising temperature with its own rollout id, so the cache never hands an attempt the
answer of another. Every attempt is counted in usage and charged to the active budgets."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from pipelines import prompts
from pipelines.fieldtypes import to_jsonable
from pipelines.lm.errors import BudgetExceeded, LMError
from pipelines.lm.sampling import sampled
from pipelines.modules.hints import hinted
from pipelines.modules.module import Module
from pipelines.modules.predict import Predict
from pipelines.primitives import Prediction
from pipelines.signatures import Signature

log = logging.getLogger(__name__)
Reward = Callable[[dict[str, Any], Prediction], float]
MAX_TEMPERATURE = 1.0


class BestOfN(Module):
    """Up to `N` attempts of `module`; stops at the first whose `reward_fn(inputs, prediction)` reaches
    `threshold`, else returns the best. An attempt that raises counts as failed; after `fail_count` failures
    (default: all `N`) the last error is raised. A spent budget or a failing LM ends the attempts at once."""

    def __init__(self, module: Module, N: int, reward_fn: Reward, threshold: float, *,
                 fail_count: int | None = None, max_temperature: float = MAX_TEMPERATURE):
        if N < 1:
            raise ValueError(f"N must be at least 1, got {N}")
        self.module = module
        self.N = N
        self.reward_fn = reward_fn
        self.threshold = threshold
        self.fail_count = N if fail_count is None else fail_count
        self.max_temperature = max_temperature

    def forward(self, **inputs: Any) -> Prediction:
        best: tuple[float, Prediction] | None = None
        failures, advice = 0, None
        for attempt in range(self.N):
            try:
                prediction = self._attempt(attempt, inputs, advice)
            except (BudgetExceeded, LMError):
                raise
            except Exception as error:  # a reply that could not be read, a tool that broke the module, ...
                failures += 1
                log.debug("attempt %d of %d failed: %s", attempt + 1, self.N, error)
                if failures >= self.fail_count or (best is None and attempt == self.N - 1):
                    raise
                continue
            reward = float(self.reward_fn(inputs, prediction))
            if best is None or reward > best[0]:
                best = (reward, prediction)
            if reward >= self.threshold:
                break
            if attempt < self.N - 1:
                advice = self._advice(inputs, prediction, reward)
        assert best is not None  # every path without a success raised above
        return best[1]

    def temperature(self, attempt: int) -> float:
        """The temperature of attempt `attempt` (from 0) after the first: rising to `max_temperature`."""
        return self.max_temperature * attempt / max(1, self.N - 1)

    def advise(self, inputs: dict[str, Any], prediction: Prediction, reward: float) -> str | None:
        """Advice for the next attempt; `BestOfN` gives none."""
        return None

    def _advice(self, inputs: dict[str, Any], prediction: Prediction, reward: float) -> str | None:
        """`advise`, where advice that cannot be had (an unreadable reply) is none: the attempts go on."""
        try:
            return self.advise(inputs, prediction, reward)
        except (BudgetExceeded, LMError):
            raise
        except Exception as error:
            log.debug("no advice for the next attempt: %s", error)
            return None

    def _attempt(self, attempt: int, inputs: dict[str, Any], advice: str | None) -> Prediction:
        sampling = nullcontext() if attempt == 0 else sampled(temperature=self.temperature(attempt),
                                                              rollout_id=f"attempt-{attempt}")
        with sampling, hinted(advice) if advice else nullcontext():  # no advice keeps any outer attempt's
            return self.module(**inputs)


class Refine(BestOfN):
    """`BestOfN` that learns from its misses: after an attempt below the threshold, an LM step (`advice`,
    a predictor the optimizers can tune like any other) reads it and its reward, and every step of the next
    attempt sees that advice as a `hint` input."""

    def __init__(self, module: Module, N: int, reward_fn: Reward, threshold: float, *,
                 fail_count: int | None = None, max_temperature: float = MAX_TEMPERATURE):
        super().__init__(module, N, reward_fn, threshold, fail_count=fail_count, max_temperature=max_temperature)
        self.advice = Predict(Signature("task, inputs, outputs, reward: float -> advice", prompts.REFINE_ADVICE))

    def advise(self, inputs: dict[str, Any], prediction: Prediction, reward: float) -> str | None:
        task = " / ".join(dict.fromkeys(predictor.signature.instructions.strip()
                                        for predictor in self.module.predictors()))
        return self.advice(task=task, inputs=_json(inputs), outputs=_json(prediction.to_dict()),
                           reward=reward).advice


def _json(values: dict[str, Any]) -> str:
    return json.dumps(to_jsonable(values), ensure_ascii=False)
