"""`Ensemble` and `majority`: several programs asked the same thing, and the answer most of them give kept.

A small model shown different demos disagrees where it is unsure; when the members' errors differ, their vote
is right more often than any one of them. Every member makes its own LM calls, so an ensemble of three costs
three times one program."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pipelines.lm.errors import BudgetExceeded, LMError
from pipelines.modules.module import Module
from pipelines.primitives import Prediction

log = logging.getLogger(__name__)


def majority(predictions: Sequence[Mapping[str, Any]], field: str | None = None) -> Prediction:
    """The first of `predictions` whose `field` holds the value most of them hold, compared without case or
    spacing, so that its other fields (its reasoning) belong to that answer. A tie goes to the value given
    first: list the member trusted most first. `field` may be left out when the predictions have one field."""
    if not predictions:
        raise ValueError("majority needs at least one prediction")
    field = field or _only_field(predictions[0])
    missing = [index for index, prediction in enumerate(predictions) if field not in prediction]
    if missing:
        raise ValueError(f"predictions {missing} have no field {field!r}")
    keys = [_normalized(prediction[field]) for prediction in predictions]
    votes = Counter(keys)
    winner = max(votes, key=lambda key: (votes[key], -keys.index(key)))
    chosen = predictions[keys.index(winner)]
    return chosen if isinstance(chosen, Prediction) else Prediction(dict(chosen))


class Ensemble(Module):
    """Runs every member on the same inputs and returns their `majority` on `field`. A member whose reply
    cannot be read is left out of the vote; if none can be read, the last error is raised. A failing LM or a
    spent budget ends the call at once."""

    def __init__(self, members: list[Module], field: str | None = None):
        listed = isinstance(members, list | tuple)
        if not listed or not members or not all(isinstance(member, Module) for member in members):
            got = [type(member).__name__ for member in members] if listed else type(members).__name__
            raise ValueError(f"Ensemble needs a non-empty list of modules, got {got}")
        self.members = list(members)
        self.field = field

    def forward(self, **inputs: Any) -> Prediction:
        predictions, error = [], None
        for index, member in enumerate(self.members):
            try:
                predictions.append(member(**inputs))
            except (BudgetExceeded, LMError):
                raise
            except Exception as failure:  # an unreadable reply: the others still vote
                log.debug("ensemble member %d failed: %s", index, failure)
                error = failure
        if not predictions:
            assert error is not None
            raise error
        return majority(predictions, self.field)


def _only_field(prediction: Mapping[str, Any]) -> str:
    fields = list(prediction)
    if len(fields) != 1:
        raise ValueError(f"say which field to vote on: the predictions have {fields}")
    return fields[0]


def _normalized(value: Any) -> str:
    return " ".join(str(value).split()).casefold()
