"""`Module`: the base of every program, composed like a PyTorch module; `Predictor`: the base of the modules
whose state optimizers tune and program state saves."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipelines import state
from pipelines.lm.usage import track_usage
from pipelines.primitives import Prediction

if TYPE_CHECKING:
    from pipelines.demo_pool import DemoPool
    from pipelines.lm.client import LM
    from pipelines.primitives import Example
    from pipelines.signatures import Signature

ModuleType = TypeVar("ModuleType", bound="Module")
CONSTRUCTED_WITH = "_constructed_with"
"""The attribute that keeps the arguments a module was built with: a served model rebuilds it from them."""


class Module:
    """Sub-modules assigned as attributes (or inside lists and dicts) are found automatically; calling a
    module runs its `forward` in a usage scope of its own, so the prediction it returns reports every LM call
    made by it and by the modules it calls, without code of its own."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Module:
        if (args or kwargs) and cls.__init__ is object.__init__:
            raise TypeError(f"{cls.__name__}() takes no arguments")  # what object() says, kept for subclasses
        module = super().__new__(cls)
        module.__dict__[CONSTRUCTED_WITH] = (args, kwargs)  # before __init__, so no subclass has to call super()
        return module

    def constructor_arguments(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The positional and keyword arguments this module was constructed with."""
        return self.__dict__.get(CONSTRUCTED_WITH, ((), {}))

    def forward(self, **inputs: Any) -> Prediction:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Prediction:
        with track_usage() as usage:
            returned = self.forward(*args, **kwargs)
        if not isinstance(returned, Mapping):
            raise TypeError(f"{type(self).__name__}.forward must return a Prediction or a mapping of outputs, "
                            f"got {type(returned).__name__}")
        spent = usage.total
        fields = returned.to_dict() if isinstance(returned, Prediction) else dict(returned)
        return Prediction(fields, usage=spent, cached=spent.calls == 0 and spent.cache_hits > 0)

    def named_predictors(self) -> list[tuple[str, Predictor]]:
        """Every predictor inside, by attribute path (`generate.predict`); the names key program state."""
        return self.named_modules(Predictor)

    def named_modules(self, kind: type[ModuleType]) -> list[tuple[str, ModuleType]]:
        """Every module of `kind` inside (not looking into those found), by attribute path."""
        return list(_walk(self, "", kind))

    def predictors(self) -> list[Predictor]:
        return [predictor for _, predictor in self.named_predictors()]

    def set_lm(self, lm: LM | None) -> None:
        """Give every predictor inside this LM (None: back to the configured default)."""
        for predictor in self.predictors():
            predictor.lm = lm

    def deepcopy(self) -> Module:
        """An independent copy: changing its demos or instructions leaves this one as it is."""
        return copy.deepcopy(self)

    def save(self, path: str | Path) -> None:
        state.save_program(self, Path(path))

    def load(self, path: str | Path) -> Module:
        """Load saved state into this program (its structure must match) and return it."""
        return state.load_program(self, Path(path))

    def fingerprint(self) -> str:
        return state.fingerprint(self)


class Predictor(Module):
    """A module with learnable state: its signature (instructions and field descriptions), its demos (fixed,
    or a pool chosen from per call), the text outputs it omits, and optionally its own LM. Optimizers tune
    exactly these; program state saves exactly these."""

    signature: Signature
    demos: list[Example]
    demo_pool: DemoPool | None
    omitted: tuple[str, ...]
    lm: LM | None


def _walk(value: Any, path: str, kind: type[ModuleType]) -> Iterator[tuple[str, ModuleType]]:
    if isinstance(value, kind):
        yield (path or "self"), value
        return
    if isinstance(value, Module):
        children = ((name, child) for name, child in vars(value).items() if name != CONSTRUCTED_WITH)
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
