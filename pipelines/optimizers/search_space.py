"""The candidates an instruction-and-demo search chooses from, per predictor, and the programs they make.

A *combination* picks one instruction and one demo set for every predictor. Candidates are saved as JSON in
the Optuna study, so a resumed search chooses from exactly the same ones without asking the LM again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.modules import Module
from pipelines.primitives import Example
from pipelines.state import demos_from_jsonable, demos_to_jsonable

Combination = tuple[tuple[int, int], ...]
"""(instruction index, demo-set index) per predictor, in the program's predictor order."""


BOOTSTRAPPED_SET = 2
"""The demo set BootstrapFewShot would give a predictor: its first passing runs, then labeled examples."""


@dataclass(frozen=True)
class PredictorCandidates:
    """Instruction 0 is the predictor's own; demo set 0 is no demos, 1 labeled only, 2 BootstrapFewShot's."""

    instructions: list[str]
    demo_sets: list[list[Example]]


@dataclass(frozen=True)
class SearchSpace:
    predictors: dict[str, PredictorCandidates]

    @property
    def original(self) -> Combination:
        return tuple((0, 0) for _ in self.predictors)

    @property
    def bootstrapped(self) -> Combination | None:
        """The original instructions with BootstrapFewShot's demos, when every predictor has such a set."""
        if any(len(candidates.demo_sets) <= BOOTSTRAPPED_SET for candidates in self.predictors.values()):
            return None
        return tuple((0, BOOTSTRAPPED_SET) for _ in self.predictors)

    def parameter_names(self, name: str) -> tuple[str, str]:
        return f"{name}.instruction", f"{name}.demos"

    def choices(self) -> dict[str, int]:
        """Every search parameter and how many values it has."""
        counts: dict[str, int] = {}
        for name, candidates in self.predictors.items():
            instruction, demos = self.parameter_names(name)
            counts[instruction] = len(candidates.instructions)
            counts[demos] = len(candidates.demo_sets)
        return counts

    def combination(self, params: dict[str, Any]) -> Combination:
        return tuple((int(params[self.parameter_names(name)[0]]), int(params[self.parameter_names(name)[1]]))
                     for name in self.predictors)

    def params(self, combination: Combination) -> dict[str, int]:
        params: dict[str, int] = {}
        for name, (instruction, demos) in zip(self.predictors, combination, strict=True):
            params.update(dict(zip(self.parameter_names(name), (instruction, demos), strict=True)))
        return params

    def build(self, program: Module, combination: Combination) -> Module:
        """A copy of `program` with the combination's instruction and demos on each predictor."""
        built = program.deepcopy()
        predictors = dict(built.named_predictors())
        for name, (instruction, demos) in zip(self.predictors, combination, strict=True):
            candidates, predictor = self.predictors[name], predictors[name]
            predictor.signature = predictor.signature.with_instructions(candidates.instructions[instruction])
            predictor.demos = list(candidates.demo_sets[demos])
        return built

    def describe(self, combination: Combination) -> dict[str, dict[str, Any]]:
        """What a combination chose, readable in a trial table."""
        return {name: {"instruction_index": instruction, "instruction": self.predictors[name].instructions[instruction],
                       "demo_set": demos, "demos": len(self.predictors[name].demo_sets[demos])}
                for name, (instruction, demos) in zip(self.predictors, combination, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {name: {"instructions": candidates.instructions,
                       "demo_sets": [demos_to_jsonable(demo_set) for demo_set in candidates.demo_sets]}
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
                                               for demo_set in saved["demo_sets"]])
                    for name, saved in data.items()})


def combination_key(combination: Combination) -> str:
    """A combination as a short stable string: `0.2|1.0`."""
    return "|".join(f"{instruction}.{demos}" for instruction, demos in combination)

