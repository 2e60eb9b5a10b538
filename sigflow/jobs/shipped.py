"""A shipped program by name, with its dataset and a program built for it: what every job starts from."""

from __future__ import annotations

from pathlib import Path

from pipelines.datasets import Dataset, load_dataset
from pipelines.modules import Module
from pipelines.programs import ProgramSpec, program_spec


def load_for(program: str, dataset: str | None, data_dir: str | Path | None) -> tuple[ProgramSpec, Dataset]:
    """The program's spec and its dataset (by default the program's first)."""
    spec = program_spec(program)
    dataset_name = dataset or spec.default_dataset
    spec.check_dataset(dataset_name)
    return spec, load_dataset(dataset_name, data_dir)


def prepare(program: str, dataset: str | None, data_dir: str | Path | None, state: Path | None,
            built: Module | None = None) -> tuple[ProgramSpec, Dataset, Module]:
    """The program's spec, its dataset and a program built for it, or `built` in its place (with saved state
    loaded, if given)."""
    spec, loaded = load_for(program, dataset, data_dir)
    built = built or spec.build(loaded)
    if state is not None:
        built.load(state)
    return spec, loaded, built
