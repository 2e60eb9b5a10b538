"""The candidates an instruction-and-demo search chooses from, per predictor, and the programs they make.

A *combination* picks one instruction, one demo set and how many of its demos to show for every predictor,
and whether a chain-of-thought step reasons or answers directly. Candidates are saved as JSON in
the Optuna study, so a resumed search chooses from exactly the same ones without asking the LM again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.modules import Module
from pipelines.modules.chain_of_thought import REASONING
from pipelines.primitives import Example
from pipelines.state import demos_from_jsonable, demos_to_jsonable

Choice = tuple[int, int, int, int]
"""One predictor's part of a combination: (instruction index, demo-set index, demos shown, reasons 1 or 0)."""
Combination = tuple[Choice, ...]
"""One choice per predictor, in the program's predictor order. Equal programs make equal combinations: a
demo set shows at most its own demos, an empty one none."""


BOOTSTRAPPED_SET = 2
"""The demo set BootstrapFewShot would give a predictor: its first passing runs, then labeled examples."""


@dataclass(frozen=True)
class PredictorCandidates:
    """Instruction 0 is the predictor's own; demo set 0 is no demos, 1 labeled only, 2 BootstrapFewShot's.
    `demo_counts`, when given, are the numbers of demos the search may show from a set (its first ones);
    `reasoning` lists whether the step reasons, its own way first: (True, False) lets the search make a
    chain-of-thought step answer directly."""

    instructions: list[str]
    demo_sets: list[list[Example]]
    demo_counts: tuple[int, ...] = ()
    reasoning: tuple[bool, ...] = (True,)

    def choice(self, instruction: int, demo_set: int, requested: int | None, reasons: bool) -> Choice:
        available = len(self.demo_sets[demo_set])
        shown = available if requested is None else min(requested, available)
        return instruction, demo_set, shown, int(reasons)


@dataclass(frozen=True)
class SearchSpace:
    predictors: dict[str, PredictorCandidates]

    @property
    def original(self) -> Combination:
        return tuple(candidates.choice(0, 0, None, candidates.reasoning[0])
                     for candidates in self.predictors.values())

    @property
    def bootstrapped(self) -> Combination | None:
        """The original instructions with BootstrapFewShot's demos, when every predictor has such a set."""
        if any(len(candidates.demo_sets) <= BOOTSTRAPPED_SET for candidates in self.predictors.values()):
            return None
        return tuple(candidates.choice(0, BOOTSTRAPPED_SET, None, candidates.reasoning[0])
                     for candidates in self.predictors.values())

    def choices(self) -> dict[str, list[int]]:
        """Every search parameter and the values it takes."""
        values: dict[str, list[int]] = {}
        for name, candidates in self.predictors.items():
            values[f"{name}.instruction"] = list(range(len(candidates.instructions)))
            values[f"{name}.demos"] = list(range(len(candidates.demo_sets)))
            if candidates.demo_counts:
                values[f"{name}.num_demos"] = list(candidates.demo_counts)
            if len(candidates.reasoning) > 1:
                values[f"{name}.reasoning"] = [int(reasons) for reasons in candidates.reasoning]
        return values

    def combination(self, params: dict[str, Any]) -> Combination:
        return tuple(candidates.choice(int(params[f"{name}.instruction"]), int(params[f"{name}.demos"]),
                                       params.get(f"{name}.num_demos"),
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
            candidates, predictor = self.predictors[name], predictors[name]
            predictor.signature = predictor.signature.with_instructions(candidates.instructions[instruction])
            predictor.demos = list(candidates.demo_sets[demo_set][:shown])
            if len(candidates.reasoning) > 1:
                kept = tuple(field for field in predictor.omitted if field != REASONING)
                predictor.omitted = kept if reasons else (*kept, REASONING)
        return built

    def describe(self, combination: Combination) -> dict[str, dict[str, Any]]:
        """What a combination chose, readable in a trial table."""
        return {name: {"instruction_index": instruction, "instruction": self.predictors[name].instructions[instruction],
                       "demo_set": demo_set, "demos": shown, "reasons": bool(reasons)}
                for name, (instruction, demo_set, shown, reasons) in zip(self.predictors, combination, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {name: {"instructions": candidates.instructions,
                       "demo_sets": [demos_to_jsonable(demo_set) for demo_set in candidates.demo_sets],
                       "demo_counts": list(candidates.demo_counts), "reasoning": list(candidates.reasoning)}
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
                                              tuple(saved.get("reasoning", (True,))))
                    for name, saved in data.items()})


def combination_key(combination: Combination) -> str:
    """A combination as a short stable string: `0.2x4|1.0x0/direct` (instruction, demo set, demos shown,
    and whether the step answers directly), one part per predictor."""
    return "|".join(f"{instruction}.{demo_set}x{shown}{'' if reasons else '/direct'}"
                    for instruction, demo_set, shown, reasons in combination)

