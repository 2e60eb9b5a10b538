"""sigflow's own agent question set over BBC News: questions that need a search of the articles, a query of
their metadata table, or both, each labelled with the tools it needs and the calls that answer it
(`calls`, which an agent's optimizers turn into demonstrated trajectories: `pipelines.programs.agent`)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from pipelines.datasets.bbc import passages
from pipelines.datasets.dataset import Dataset
from pipelines.primitives import Example

QUESTIONS = Path(__file__).parent / "data" / "bbc_agent_questions.json"
TOOLS_BY_KIND = {"search": ("search_articles",), "sql": ("sql",), "both": ("search_articles", "sql")}
DEV_PER_KIND = 12


def load_bbc_agent(questions_file: Path = QUESTIONS) -> Dataset:
    """Dev takes `DEV_PER_KIND` questions of each kind by a fixed shuffle, train the rest; the corpus is the
    BBC one (its store is shared with `bbc`)."""
    by_kind: dict[str, list[Example]] = {kind: [] for kind in TOOLS_BY_KIND}
    for item in json.loads(questions_file.read_text(encoding="utf-8")):
        if item["kind"] not in TOOLS_BY_KIND:
            raise ValueError(f"{questions_file}: question {item['id']} has kind {item['kind']!r}; "
                             f"expected one of {', '.join(TOOLS_BY_KIND)}")
        by_kind[item["kind"]].append(Example(
            id=item["id"], question=item["question"], answer=item["answer"], kind=item["kind"],
            tools=list(TOOLS_BY_KIND[item["kind"]]), calls=item["calls"], article_id=item.get("article_id", ""))
            .with_inputs("question"))
    rng = random.Random(0)
    train, dev = [], []
    for examples in by_kind.values():
        rng.shuffle(examples)
        dev += examples[:DEV_PER_KIND]
        train += examples[DEV_PER_KIND:]
    rng.shuffle(train)
    rng.shuffle(dev)
    return Dataset("bbc-agent", {"train": train, "dev": dev}, passages(), corpus_name="bbc")
