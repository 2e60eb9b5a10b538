"""What an `Ensemble` of measured programs would answer, read off their stored predictions without an LM call:
each member's prediction for a question is what it answered when it was measured (temperature 0, the same
prompt), and the ensemble's is their `majority`, computed by the same function the module calls."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

from benchmarks.stats import with_interval
from pipelines import Example, Metric, majority

SIZES = (3, 5)
COSTS = ("compile_task_calls", "compile_proposal_calls", "program_runs", "compile_tokens", "compile_seconds",
         "evaluation_calls", "evaluation_tokens", "seconds")


def voted(member_labels: Sequence[Sequence[str | None]]) -> list[str | None]:
    """Each question's majority among the members (in the order given: a tie goes to the first), an unreadable
    member left out as `Ensemble` leaves it; None where no member could be read."""
    votes = []
    for labels in zip(*member_labels, strict=True):
        readable = [{"label": label} for label in labels if label is not None]
        votes.append(majority(readable, "label")["label"] if readable else None)
    return votes


def best_ensemble(methods: Sequence[dict[str, Any]], dev: Sequence[Example], test: Sequence[Example],
                  metric: Metric, field: str = "label") -> dict[str, Any] | None:
    """The ensemble of 3 or 5 of the `methods` that stored their predictions of `field` with the best dev score
    (the fewer members on a tie), its members ordered best on dev first, scored on test, as a result row: its
    cost is the sum of its members'."""
    stored = sorted((m for m in methods if m.get("dev_labels") and m.get("test_labels")),
                    key=lambda m: -m["dev_accuracy"])
    candidates = [members for size in SIZES if size <= len(stored) for members in combinations(stored, size)]
    if not candidates:
        return None

    def scores(members: Sequence[dict[str, Any]], split: str, examples: Sequence[Example]) -> list[float]:
        predicted = voted([m[f"{split}_labels"] for m in members])
        return [0.0 if label is None else metric.score(example, {field: label})
                for label, example in zip(predicted, examples, strict=True)]

    members = max(candidates, key=lambda members: (sum(scores(members, "dev", dev)), -len(members)))
    scored = {split: scores(members, split, examples) for split, examples in (("dev", dev), ("test", test))}
    return {"method": f"ensemble of {len(members)}", "members": [m["method"] for m in members],
            **{f"{split}_accuracy": sum(values) / len(values) for split, values in scored.items()},
            **{f"{split}_interval": with_interval(values) for split, values in scored.items()},
            **{cost: sum(m.get(cost, 0) for m in members) for cost in COSTS}}
