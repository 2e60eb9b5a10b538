"""How much an instruction-and-demo search does: presets `light`, `medium`, `heavy`, and what each costs.

`light` is sized for one predictor to stay under half the program runs of DSPy's MIPROv2 `auto="light"`
(about 670 with a 200-example validation set): validation is capped at 80 examples, ten trials score
8-example minibatches, and only the most promising combination besides the two anchors (the original
program, and BootstrapFewShot's demos) is scored on all of them."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from pipelines.demo_pool import SIMILARITIES
from pipelines.optimizers.base import CallEstimate, bootstrap_runs_for


@dataclass(frozen=True)
class SearchSettings:
    num_candidates: int = 6
    """Instructions, and demo sets, per predictor (the original instruction and no demos included)."""
    num_trials: int = 10
    """Minibatch trials chosen by the sampler."""
    minibatch_size: int = 8
    val_size: int | None = 80
    """Validation examples used at most (a seeded sample); None: all."""
    num_full_evals: int = 1
    """Promising combinations scored on the whole validation set, besides the anchors."""
    max_bootstrapped_demos: int = 4
    max_labeled_demos: int = 4
    search_demo_counts: bool = True
    """Also choose how many of a set's demos to show: 1, 2, 4, ... up to the largest set."""
    search_reasoning: bool = True
    """Also choose whether a chain-of-thought step reasons or answers directly."""
    search_nearest_demos: bool = True
    """Also offer each predictor a pool of all the training demos, each call shown its nearest (KNNFewShot's
    way), as one more demo-set choice."""
    nearest_similarities: tuple[str, ...] = ("semantic",)
    """How that choice compares inputs (`demo_pool.SIMILARITIES`): one demo-set choice for each, so that
    several let the search find whether a task's neighbours are those of the same meaning, words or both."""

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            minimum = 1 if name in ("num_candidates", "minibatch_size") else 0
            if isinstance(value, int) and value < minimum:
                raise ValueError(f"{name} must be at least {minimum}, got {value}")
        similarities = tuple(self.nearest_similarities)
        if not similarities or len(set(similarities)) < len(similarities) or \
                any(similarity not in SIMILARITIES for similarity in similarities):
            raise ValueError(f"nearest_similarities must name one or more of {', '.join(SIMILARITIES)}, each "
                             f"once, got {self.nearest_similarities!r}")
        object.__setattr__(self, "nearest_similarities", similarities)

    @classmethod
    def preset(cls, name: str = "light", **overrides: Any) -> SearchSettings:
        """A preset (`light`, `medium`, `heavy`) with some settings changed; None leaves a setting as it is."""
        if name not in AUTO:
            raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(AUTO)}")
        unknown = sorted(set(overrides) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown search setting(s) {unknown}; the settings are "
                             f"{', '.join(cls.__dataclass_fields__)}")
        return replace(AUTO[name], **{key: value for key, value in overrides.items() if value is not None})

    @classmethod
    def of(cls, settings: str | SearchSettings) -> SearchSettings:
        """`settings` itself, or the preset it names."""
        return settings if isinstance(settings, SearchSettings) else cls.preset(settings)

    @property
    def full_eval_every(self) -> int:
        """Trials between two full evaluations, so they are spread over the search."""
        return max(1, math.ceil(self.num_trials / max(1, self.num_full_evals)))


AUTO = {
    "light": SearchSettings(),
    "medium": SearchSettings(num_candidates=10, num_trials=24, minibatch_size=20, val_size=200, num_full_evals=3),
    "heavy": SearchSettings(num_candidates=15, num_trials=48, minibatch_size=25, val_size=500, num_full_evals=6),
}


def estimate(settings: SearchSettings, *, num_predictors: int, train_size: int, val_size: int) -> CallEstimate:
    val = min(val_size, settings.val_size) if settings.val_size is not None else val_size
    bootstrapping = settings.num_candidates > 2 and settings.max_bootstrapped_demos > 0
    # The demo sets draw from one pool of twice the set size.
    bootstrap_runs = min(train_size, bootstrap_runs_for(2 * settings.max_bootstrapped_demos)) if bootstrapping else 0
    proposals = 1 + num_predictors * (settings.num_candidates - 1) if settings.num_candidates > 1 else 0
    minibatch = min(settings.minibatch_size, val)
    anchors = 2 if settings.num_candidates > 2 else 1  # the original, and BootstrapFewShot's demos
    # A combination worth a full evaluation has been scored on at least one minibatch already.
    validation = anchors * val + settings.num_full_evals * (val - minibatch) + settings.num_trials * minibatch
    return CallEstimate(bootstrap_runs=bootstrap_runs, validation_runs=validation, proposal_calls=proposals,
                        lm_calls_per_run=num_predictors)
