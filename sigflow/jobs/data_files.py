"""The user's examples from a JSONL, CSV or Parquet file: the program's inputs and the label columns checked
before any LM call, each problem one line that names the file, the row or the column."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.primitives import Example

READERS = {
    ".jsonl": lambda path: pd.read_json(path, lines=True, dtype=False, convert_dates=False),
    ".csv": lambda path: pd.read_csv(path, dtype=str, keep_default_na=False),
    ".parquet": pd.read_parquet,
}


def read_examples(path: Path, inputs: list[str], labels: list[str]) -> list[Example]:
    """Every row of `path` as an example with `inputs` marked; an `id` column names the examples."""
    table = _read_table(path)
    missing = [column for column in [*inputs, *labels] if column not in table.columns]
    if missing:
        raise ValueError(f"{path} has no column {', '.join(missing)} (the program's inputs are "
                         f"{', '.join(inputs)}; labels: {', '.join(labels) or 'none'}); its columns are "
                         f"{', '.join(map(str, table.columns))}")
    examples = []
    for number, row in enumerate(table.to_dict(orient="records"), start=1):
        for column in [*inputs, *labels]:
            if _is_empty(row[column]):
                kind = "input" if column in inputs else "label"
                raise ValueError(f"{path} row {number}: the {kind} {column!r} is empty")
        examples.append(Example({key: value for key, value in row.items() if not _is_empty(value)},
                                input_keys=tuple(inputs)))
    return examples


def fingerprint(path: Path) -> str:
    """A short hash of the file's bytes: versions are compared only on the same data."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"no such data file: {path}")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"{path}: data files are {', '.join(READERS)}, not {path.suffix or 'without a suffix'}")
    try:
        table = reader(path)
    except Exception as error:  # pandas and pyarrow raise many kinds for a file they cannot parse
        raise ValueError(f"cannot read {path} as {path.suffix[1:].upper()}: {type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''}") from error
    if table.empty:
        raise ValueError(f"{path} has no rows")
    return table


def _is_empty(value: Any) -> bool:
    """None, NaN, pandas' NA or NaT, or blank text; a list or mapping is a value, however short."""
    if isinstance(value, str):
        return not value.strip()
    return not isinstance(value, list | dict | tuple) and bool(pd.isna(value))
