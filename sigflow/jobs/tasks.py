"""What evaluate, optimize and predict run: a program (shipped, by name, or the user's own class), the data
it runs on (a shipped dataset or the user's files) and the metrics that score it, the first one primary.
Everything is checked here, before a run is opened or an LM called."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.datasets import Dataset, load_dataset
from pipelines.evaluation.metrics import Metric
from pipelines.modules import Module
from pipelines.programs import PROGRAMS, program_spec
from serving.bundle import input_fields
from sigflow.jobs.data_files import fingerprint, read_examples
from sigflow.jobs.metric_specs import label_fields, metric_from_spec
from sigflow.jobs.targets import build_program, program_class


@dataclass(frozen=True)
class DataFiles:
    """The user's data: `data` to evaluate on, `train` and `val` to optimize with (JSONL, CSV or Parquet)."""

    data: Path | None = None
    train: Path | None = None
    val: Path | None = None

    def given(self) -> bool:
        return any((self.data, self.train, self.val))


NO_FILES = DataFiles()


@dataclass(frozen=True)
class Task:
    target: str
    dataset: Dataset
    metrics: dict[str, Metric]
    build: Callable[[], Module]
    """The program for this data (a RAG with its store built)."""
    skeleton: Callable[[], Module]
    """The program's steps without its data (no store): enough to count its LM calls."""
    inputs: tuple[str, ...]
    default_split: str

    @property
    def primary(self) -> Metric:
        return next(iter(self.metrics.values()))


def resolve_task(target: str, *, dataset: str | None = None, data_dir: str | Path | None = None,
                 files: DataFiles = NO_FILES, metrics: Sequence[str] = ()) -> Task:
    """The task TARGET names: shipped programs run on their dataset unless files are given; the user's
    program needs its files and a metric."""
    if target in PROGRAMS:
        return _shipped_task(target, dataset, data_dir, files, metrics)
    if dataset is not None or data_dir is not None:
        raise ValueError("--dataset and --data-dir choose a shipped program's data; give your program "
                         "--data (or --train and --val) files")
    program = build_program(_user_class(target), target)  # built once: evaluate and optimize never change it
    outputs = _output_fields(program)
    if not metrics:
        raise ValueError(f"{target} needs --metric (e.g. accuracy:{next(iter(sorted(outputs)), 'FIELD')})")
    chosen = [metric_from_spec(spec, {}, outputs) for spec in metrics]
    inputs = input_fields(program)
    loaded = _files_dataset(files, inputs, label_fields(chosen))
    return Task(target, loaded, {metric.name: metric for metric in chosen}, lambda: program, lambda: program,
                tuple(inputs), next(iter(loaded.splits)))


def runnable(target: str, *, dataset: str | None = None, data_dir: str | Path | None = None
             ) -> tuple[Module, tuple[str, ...]]:
    """The program TARGET names, built to run (a shipped RAG over its dataset's store), and its inputs."""
    if target in PROGRAMS:
        task = _shipped_task(target, dataset, data_dir, NO_FILES, ())
        return task.build(), task.inputs
    program = build_program(_user_class(target), target)
    return program, tuple(input_fields(program))


def _user_class(target: str) -> type[Module]:
    if ":" not in target:
        raise ValueError(f"unknown program {target!r}; choose one of {', '.join(PROGRAMS)}, or name your own as "
                         "path/to/file.py:Class or package.module:Class")
    return program_class(target)


def _shipped_task(name: str, dataset: str | None, data_dir: str | Path | None, files: DataFiles,
                  metrics: Sequence[str]) -> Task:
    spec = program_spec(name)
    dataset_name = dataset or spec.default_dataset
    spec.check_dataset(dataset_name)
    known = spec.metrics()
    outputs = _output_fields(spec.build(None))
    chosen = {spec if spec in known else metric.name: metric  # the program's own metrics keep their names
              for spec, metric in ((spec, metric_from_spec(spec, known, outputs)) for spec in metrics)} or known
    loaded = load_dataset(dataset_name, data_dir)
    if files.given():
        from_files = _files_dataset(files, [spec.input_field], label_fields(list(chosen.values())))
        loaded = Dataset(from_files.name, from_files.splits, loaded.corpus)
    split = next(iter(loaded.splits)) if files.given() else "dev"
    return Task(name, loaded, chosen, lambda: spec.build(loaded), lambda: spec.build(None), (spec.input_field,),
                split)


def _output_fields(program: Module) -> set[str]:
    """Every field the program's predictors answer: what a built-in metric may compare."""
    return {name for predictor in program.predictors() for name in predictor.signature.output_fields}


def _files_dataset(files: DataFiles, inputs: list[str], labels: list[str]) -> Dataset:
    """The user's files as a dataset: `--data` as one split named after the file, or `--train` and `--val`
    as the train and dev splits. Its name carries the scored file's hash, so registry versions are compared
    only on the same data."""
    if files.data is not None:
        if files.train or files.val:
            raise ValueError("give --data to evaluate, or --train and --val to optimize, not both")
        examples = read_examples(files.data, inputs, labels)
        return Dataset(_named(files.data), {files.data.name: examples})
    if files.train is None and files.val is None:
        raise ValueError("give your examples: --data FILE to evaluate, --train FILE and --val FILE to optimize")
    if files.train is None or files.val is None:
        raise ValueError("give --train FILE and --val FILE to optimize")
    splits = {"train": read_examples(files.train, inputs, labels), "dev": read_examples(files.val, inputs, labels)}
    return Dataset(_named(files.val), splits)


def _named(path: Path) -> str:
    return f"{path.name}#{fingerprint(path)}"
