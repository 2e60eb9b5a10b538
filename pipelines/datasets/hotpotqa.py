"""HotpotQA (distractor setting) from a directory with train.jsonl, dev.jsonl and corpus.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.datasets.dataset import Dataset
from pipelines.primitives import Example
from pipelines.retrieval.passage import Passage

FILES = ("train.jsonl", "dev.jsonl", "corpus.jsonl")


def load_hotpotqa(data_dir: str | Path | None) -> Dataset:
    if data_dir is None:
        raise FileNotFoundError("the hotpotqa dataset needs --data-dir, a directory with "
                                f"{', '.join(FILES)} (for example ../shared/data/hotpotqa)")
    directory = Path(data_dir)
    missing = [name for name in FILES if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} lacks {', '.join(missing)}: the hotpotqa directory needs "
                                f"{', '.join(FILES)}")
    splits = {split: [Example(id=row["id"], question=row["question"], answer=row["answer"],
                              gold_titles=row["gold_titles"]).with_inputs("question")
                      for row in _rows(directory / f"{split}.jsonl")]
              for split in ("train", "dev")}
    corpus = [Passage(id=str(row["id"]), title=row["title"], text=row["text"])
              for row in _rows(directory / "corpus.jsonl")]
    return Dataset("hotpotqa", splits, corpus)


def _rows(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}, line {number}: not JSON ({error.msg})") from error
    return rows
