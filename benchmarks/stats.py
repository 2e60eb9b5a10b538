"""Intervals for the scores benchmarks report: a score over a few hundred questions is an estimate."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000


def interval(scores: Sequence[float], seed: int = 0) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval of the mean of per-example scores."""
    values = np.asarray(scores, dtype=float)
    if len(values) < 2 or np.all(values == values[0]):
        mean = fmean(values) if len(values) else 0.0
        return mean, mean
    result = stats.bootstrap((values,), np.mean, confidence_level=CONFIDENCE, n_resamples=RESAMPLES,
                             method="percentile", rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def with_interval(scores: Sequence[float]) -> dict[str, float]:
    low, high = interval(scores)
    return {"mean": fmean(scores) if scores else 0.0, "low": low, "high": high, "n": len(scores)}


def shown(summary: dict[str, float]) -> str:
    """`0.150 [0.105, 0.200]`."""
    return f"{summary['mean']:.3f} [{summary['low']:.3f}, {summary['high']:.3f}]"
