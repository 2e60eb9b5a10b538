"""Choosing among fully evaluated combinations: the best one, or with costs the Pareto set and a pick.

The pick rule for several objectives: take the best quality, subtract one standard error of it, and of the
combinations scoring at least that, choose the cheapest by the first cost objective. Differences smaller
than the noise of the validation set do not buy extra tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pipelines.optimizers.scorebook import CombinationRecord
from pipelines.optimizers.search_space import Combination

Records = Mapping[Combination, CombinationRecord]


def pareto_front(records: Records, costs: Sequence[str]) -> list[Combination]:
    """Combinations no other beats on quality without costing more on some objective, best quality first."""
    def dominates(a: CombinationRecord, b: CombinationRecord) -> bool:
        no_worse = a.score >= b.score and all(a.objective(cost) <= b.objective(cost) for cost in costs)
        better = a.score > b.score or any(a.objective(cost) < b.objective(cost) for cost in costs)
        return no_worse and better

    front = [combination for combination, record in records.items()
             if not any(dominates(other, record) for other in records.values() if other is not record)]
    return sorted(front, key=lambda combination: -records[combination].score)


def pick(records: Records, costs: Sequence[str]) -> Combination:
    """With no costs, the best quality (fewer tokens breaks a tie); with costs, the rule above."""
    if not records:
        raise ValueError("no fully evaluated combination to choose from")
    if not costs:
        return max(records, key=lambda combination: (records[combination].score, -records[combination].tokens))
    front = pareto_front(records, costs)
    best = records[front[0]]
    eligible = [combination for combination in front if records[combination].score >= best.score - best.standard_error]
    return min(eligible, key=lambda combination: (records[combination].objective(costs[0]),
                                                  -records[combination].score))
