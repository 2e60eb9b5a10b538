"""The candidates an instruction-and-demo search chooses from, per predictor, and the programs they make.

A *combination* picks one instruction, one demo set and how many of its demos to show for every predictor,
and whether a chain-of-thought step reasons or answers directly. Besides the fixed demo sets, a predictor may
have a pool of demos from which each call is shown its nearest (`pools`): the last demo-set choices, one for
each way of comparing inputs the search may choose (by meaning, by shared words, by both). Candidates
are saved as JSON in the Optuna study, so a resumed search chooses from exactly the same ones without asking
the LM again."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pipelines.demo_pool import DemoPool
from pipelines.modules import Module, Predictor
from pipelines.modules.chain_of_thought import REASONING
from pipelines.optimizers.pools import whole_demos
from pipelines.primitives import Example
from pipelines.state import demos_from_jsonable, demos_to_jsonable

Choice = tuple[int, int, int, int]
"""One predictor's part of a combination: (instruction index, demo-set index, demos shown, reasons 1 or 0)."""
Combination = tuple[Choice, ...]
"""One choice per predictor, in the program's predictor order. Equal programs make equal combinations: a
demo set shows at most its own demos, and showing none is demo set 0 (no demos)."""


BOOTSTRAPPED_SET = 2
"""The demo set BootstrapFewShot would give a predictor: its first passing runs, then labeled examples."""
NEAREST_DEMOS = 4
"""Demos a call is shown from a pool when the search does not choose how many (KNNFewShot's default k)."""


@dataclass(frozen=True)
class PredictorCandidates:
    """Instruction 0 is the predictor's own; demo set 0 is no demos, 1 labeled only, 2 BootstrapFewShot's.
    `demo_counts`, when given, are the numbers of demos the search may show from a set (its first ones);
    `reasoning` lists whether the step reasons, its own way first: (True, False) lets the search make a
    chain-of-thought step answer directly. A non-empty `pool` adds one more demo-set choice for each of
    `pool_similarities`: each call shows its nearest demos from the pool, compared on the `pool_keys` fields
    that way."""

    instructions: list[str]
    demo_sets: list[list[Example]]
    demo_counts: tuple[int, ...] = ()
    reasoning: tuple[bool, ...] = (True,)
    pool: list[Example] = field(default_factory=list)
    pool_keys: tuple[str, ...] = ()
    pool_similarities: tuple[str, ...] = ("semantic",)
    _whole: dict[tuple[str, ...], list[Example]] = field(default_factory=dict, init=False, compare=False,
                                                         repr=False)
    _indexed: dict[tuple[tuple[str, ...], str], DemoPool] = field(default_factory=dict, init=False, compare=False,
                                                                  repr=False)

    @property
    def nearest(self) -> int | None:
        """The first demo-set index that means "the pool's nearest" (one per similarity, in their order), or
        None without a pool."""
        return len(self.demo_sets) if self.pool else None

    @property
    def num_demo_choices(self) -> int:
        return len(self.demo_sets) + (len(self.pool_similarities) if self.pool else 0)

    def similarity(self, demo_set: int) -> str | None:
        """How the pool compares inputs for this demo-set choice; None for a fixed set."""
        if not self.pool or demo_set < len(self.demo_sets):
            return None
        return self.pool_similarities[demo_set - len(self.demo_sets)]

    def choice(self, predictor: Predictor, instruction: int, demo_set: int, requested: int | None,
               reasons: bool) -> Choice:
        available = len(self._demos(predictor, demo_set, reasons))
        wanted = requested if requested is not None else (NEAREST_DEMOS if self.similarity(demo_set) else available)
        shown = min(wanted, available)
        return instruction, demo_set if shown else 0, shown, int(reasons)

    def apply(self, predictor: Predictor, instruction: int, demo_set: int, shown: int, reasons: bool) -> None:
        """Give `predictor` this choice's instruction, demos and reasoning."""
        predictor.signature = predictor.signature.with_instructions(self.instructions[instruction])
        if len(self.reasoning) > 1:
            predictor.omitted = _omitted(predictor, reasons)
        similarity = self.similarity(demo_set)
        if similarity:
            predictor.demos, predictor.demo_pool = [], self._pool(predictor, reasons, shown, similarity)
        else:
            predictor.demos, predictor.demo_pool = list(self.demo_sets[demo_set][:shown]), None

    def _demos(self, predictor: Predictor, demo_set: int, reasons: bool) -> list[Example]:
        """A fixed set, or the pool's demos that are whole for the step reasoning or not."""
        if self.similarity(demo_set) is None:
            return self.demo_sets[demo_set]
        return self._whole_demos(predictor, _omitted(predictor, reasons))

    def _whole_demos(self, predictor: Predictor, omitted: tuple[str, ...]) -> list[Example]:
        """The pool's demos that are whole for the step without `omitted`, filtered once for each way it reasons."""
        if omitted not in self._whole:
            self._whole[omitted] = whole_demos(predictor, self.pool, omitted)
        return self._whole[omitted]

    def _pool(self, predictor: Predictor, reasons: bool, k: int, similarity: str) -> DemoPool:
        """A pool showing `k` per call; its index is built once for each way the step reasons and each
        similarity, and shared."""
        omitted = _omitted(predictor, reasons)
        if (omitted, similarity) not in self._indexed:
            self._indexed[omitted, similarity] = DemoPool(self._whole_demos(predictor, omitted), k=k,
                                                          keys=self.pool_keys, similarity=similarity)
        return self._indexed[omitted, similarity].with_k(k)


def _omitted(predictor: Predictor, reasons: bool) -> tuple[str, ...]:
    kept = tuple(name for name in predictor.omitted if name != REASONING)
    return kept if reasons else (*kept, REASONING)


@dataclass(frozen=True)
class SearchSpace:
    """The candidates of each predictor of `program`, by the predictor's name."""

    predictors: dict[str, PredictorCandidates]
    program: Module = field(compare=False, repr=False)

    @cached_property
    def _steps(self) -> dict[str, Predictor]:
        return dict(self.program.named_predictors())

    @property
    def original(self) -> Combination:
        return tuple(candidates.choice(self._steps[name], 0, 0, None, candidates.reasoning[0])
                     for name, candidates in self.predictors.items())

    @property
    def bootstrapped(self) -> Combination | None:
        """The original instructions with BootstrapFewShot's demos, when every predictor has such a set."""
        if any(len(candidates.demo_sets) <= BOOTSTRAPPED_SET for candidates in self.predictors.values()):
            return None
        return tuple(candidates.choice(self._steps[name], 0, BOOTSTRAPPED_SET, None, candidates.reasoning[0])
                     for name, candidates in self.predictors.items())

    def choices(self) -> dict[str, list[int]]:
        """Every search parameter and the values it takes."""
        values: dict[str, list[int]] = {}
        for name, candidates in self.predictors.items():
            values[f"{name}.instruction"] = list(range(len(candidates.instructions)))
            values[f"{name}.demos"] = list(range(candidates.num_demo_choices))
            if candidates.demo_counts:
                values[f"{name}.num_demos"] = list(candidates.demo_counts)
            if len(candidates.reasoning) > 1:
                values[f"{name}.reasoning"] = [int(reasons) for reasons in candidates.reasoning]
        return values

    def combination(self, params: dict[str, Any]) -> Combination:
        return tuple(candidates.choice(self._steps[name], int(params[f"{name}.instruction"]),
                                       int(params[f"{name}.demos"]), params.get(f"{name}.num_demos"),
                                       bool(params.get(f"{name}.reasoning", candidates.reasoning[0])))
                     for name, candidates in self.predictors.items())

    def params(self, combination: Combination) -> dict[str, int]:
        """Parameter values that make `combination` (the fewest demos asked for that show its own)."""
        params: dict[str, int] = {}
        for (name, candidates), (instruction, demo_set, shown, reasons) in zip(self.predictors.items(), combination,
                                                                              strict=True):
            params[f"{name}.instruction"], params[f"{name}.demos"] = instruction, demo_set
            if candidates.demo_counts:
                params[f"{name}.num_demos"] = min((count for count in candidates.demo_counts if count >= shown),
                                                  default=max(candidates.demo_counts))
            if len(candidates.reasoning) > 1:
                params[f"{name}.reasoning"] = reasons
        return params

    def build(self, program: Module, combination: Combination) -> Module:
        """A copy of `program` with the combination's instruction, demos and reasoning on each predictor."""
        built = program.deepcopy()
        predictors = dict(built.named_predictors())
        for name, (instruction, demo_set, shown, reasons) in zip(self.predictors, combination, strict=True):
            self.predictors[name].apply(predictors[name], instruction, demo_set, shown, bool(reasons))
        return built

    def describe(self, combination: Combination) -> dict[str, dict[str, Any]]:
        """What a combination chose, readable in a trial table."""
        described = {}
        for name, (instruction, demo_set, shown, reasons) in zip(self.predictors, combination, strict=True):
            candidates = self.predictors[name]
            similarity = candidates.similarity(demo_set)
            described[name] = {"instruction_index": instruction, "instruction": candidates.instructions[instruction],
                               "demo_set": "nearest" if similarity else demo_set, "demos": shown,
                               "reasons": bool(reasons), **({"similarity": similarity} if similarity else {})}
        return described

    def to_dict(self) -> dict[str, Any]:
        return {name: {"instructions": candidates.instructions,
                       "demo_sets": [demos_to_jsonable(demo_set) for demo_set in candidates.demo_sets],
                       "demo_counts": list(candidates.demo_counts), "reasoning": list(candidates.reasoning),
                       "pool": demos_to_jsonable(candidates.pool), "pool_keys": list(candidates.pool_keys),
                       "pool_similarities": list(candidates.pool_similarities)}
                for name, candidates in self.predictors.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], program: Module) -> SearchSpace:
        """Candidates saved by `to_dict`, their demos typed by `program`'s signatures."""
        predictors = dict(program.named_predictors())
        if set(data) != set(predictors):
            raise ValueError(f"the saved candidates are for predictors {sorted(data)}, the program has "
                             f"{sorted(predictors)}")
        return cls({name: PredictorCandidates(list(saved["instructions"]),
                                              [demos_from_jsonable(predictors[name].signature, demo_set)
                                               for demo_set in saved["demo_sets"]],
                                              tuple(saved.get("demo_counts", ())),
                                              tuple(saved.get("reasoning", (True,))),
                                              demos_from_jsonable(predictors[name].signature, saved.get("pool", [])),
                                              tuple(saved.get("pool_keys", ())),
                                              tuple(saved.get("pool_similarities", ("semantic",))))
                    for name, saved in data.items()}, program)


def combination_key(combination: Combination) -> str:
    """A combination as a short stable string: `0.2x4|1.0x0/direct` (instruction, demo set, demos shown,
    and whether the step answers directly), one part per predictor."""
    return "|".join(f"{instruction}.{demo_set}x{shown}{'' if reasons else '/direct'}"
                    for instruction, demo_set, shown, reasons in combination)

