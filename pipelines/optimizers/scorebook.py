"""Per-example scores of every combination tried, so no combination runs twice on the same example.

The validation set is cut into fixed minibatches; a combination is scored one minibatch at a time, each
one it has not seen yet, and its full score is known once it has seen them all. Examples another worker is
scoring are claimed: they count as seen for what to score next, not for the scores."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipelines.evaluation.evaluate import ExampleResult
from pipelines.optimizers.search_space import Combination
from pipelines.primitives import Example


@dataclass
class ExampleCost:
    score: float
    tokens: int
    latency_seconds: float


@dataclass
class CombinationRecord:
    examples: dict[str, ExampleCost] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.examples)

    @property
    def score(self) -> float:
        return statistics.fmean(cost.score for cost in self.examples.values()) if self.examples else 0.0

    @property
    def standard_error(self) -> float:
        scores = [cost.score for cost in self.examples.values()]
        return statistics.stdev(scores) / math.sqrt(len(scores)) if len(scores) > 1 else 0.0

    @property
    def tokens(self) -> float:
        """Mean tokens per example, cached calls included: what the program costs to run."""
        return statistics.fmean(cost.tokens for cost in self.examples.values()) if self.examples else 0.0

    @property
    def latency(self) -> float:
        return statistics.fmean(cost.latency_seconds for cost in self.examples.values()) if self.examples else 0.0

    def objective(self, name: str) -> float:
        return {"quality": self.score, "tokens": self.tokens, "latency": self.latency}[name]


class ScoreBook:
    def __init__(self, valset: Sequence[Example], minibatch_size: int):
        if minibatch_size < 1:
            raise ValueError(f"minibatch_size must be at least 1, got {minibatch_size}")
        self.valset = list(valset)
        self.batches = [self.valset[start:start + minibatch_size]
                        for start in range(0, len(self.valset), minibatch_size)]
        self.records: dict[Combination, CombinationRecord] = {}
        self.claimed: dict[Combination, set[str]] = {}

    def clear(self) -> None:
        self.records.clear()
        self.claimed.clear()

    def record(self, combination: Combination, results: Sequence[ExampleResult]) -> None:
        examples = self.records.setdefault(combination, CombinationRecord()).examples
        for result in results:
            examples[result.example_id] = ExampleCost(result.score, result.usage.work_tokens,
                                                      result.usage.work_latency_seconds)

    def restore(self, combination: Combination, costs: dict[str, ExampleCost]) -> None:
        self.records.setdefault(combination, CombinationRecord()).examples.update(costs)

    def claim(self, combination: Combination, example_ids: Sequence[str]) -> None:
        self.claimed.setdefault(combination, set()).update(example_ids)

    def get(self, combination: Combination) -> CombinationRecord:
        return self.records.get(combination, CombinationRecord())

    def next_batch(self, combination: Combination) -> list[Example]:
        """The first minibatch with examples this combination has not been scored on (empty when none)."""
        seen = self._taken(combination)
        for batch in self.batches:
            unseen = [example for example in batch if example.example_id not in seen]
            if unseen:
                return unseen
        return []

    def unseen(self, combination: Combination) -> list[Example]:
        """The examples this combination is neither scored on nor being scored on."""
        seen = self._taken(combination)
        return [example for example in self.valset if example.example_id not in seen]

    def is_full(self, combination: Combination) -> bool:
        scored = self.get(combination).examples
        return all(example.example_id in scored for example in self.valset)

    def _taken(self, combination: Combination) -> set[str]:
        return set(self.get(combination).examples) | self.claimed.get(combination, set())
