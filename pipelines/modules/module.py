"""`Module`: the base of every program, composed like a PyTorch module."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from pipelines.lm.client import LM
    from pipelines.modules.predict import Predict
    from pipelines.primitives import Prediction

ModuleType = TypeVar("ModuleType", bound="Module")


class Module:
    """Sub-modules assigned as attributes (or inside lists and dicts) are found automatically; calling a
    module runs its `forward`."""

    def forward(self, **inputs: Any) -> Prediction:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Prediction:
        return self.forward(*args, **kwargs)

    def named_predictors(self) -> list[tuple[str, Predict]]:
        """Every `Predict` inside, by attribute path (`generate.predict`); the names key program state."""
        from pipelines.modules.predict import Predict

        return self.named_modules(Predict)

    def named_modules(self, kind: type[ModuleType]) -> list[tuple[str, ModuleType]]:
        """Every module of `kind` inside (not looking into those found), by attribute path."""
        return list(_walk(self, "", kind))

    def predictors(self) -> list[Predict]:
        return [predictor for _, predictor in self.named_predictors()]

    def set_lm(self, lm: LM | None) -> None:
        """Give every predictor inside this LM (None: back to the configured default)."""
        for predictor in self.predictors():
            predictor.lm = lm

    def deepcopy(self) -> Module:
        """An independent copy: changing its demos or instructions leaves this one as it is."""
        return copy.deepcopy(self)

    def save(self, path: str | Path) -> None:
        from pipelines.state import save_program

        save_program(self, Path(path))

    def load(self, path: str | Path) -> Module:
        """Load saved state into this program (its structure must match) and return it."""
        from pipelines.state import load_program

        return load_program(self, Path(path))

    def fingerprint(self) -> str:
        from pipelines.state import fingerprint

        return fingerprint(self)


def _walk(value: Any, path: str, kind: type[ModuleType]) -> Iterator[tuple[str, ModuleType]]:
    if isinstance(value, kind):
        yield (path or "self"), value
        return
    if isinstance(value, Module):
        children = vars(value).items()
    elif isinstance(value, list | tuple):
        children = ((f"[{index}]", item) for index, item in enumerate(value))
    elif isinstance(value, dict):
        children = ((f"[{key!r}]", item) for key, item in value.items())
    else:
        return
    for name, child in children:
        if isinstance(child, Module | list | tuple | dict):
            joined = f"{path}{name}" if name.startswith("[") else f"{path}.{name}" if path else name
            yield from _walk(child, joined, kind)
