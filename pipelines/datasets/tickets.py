"""Support tickets of a fictional note-taking app, written for sigflow (CC0, `data/TICKETS_LICENSE.md`): the
data of the your-own-pipeline notebook. Each row holds a ticket, the team that handles it and a one-line
summary; the splits are fixed by row so every figure quoted on them can be rerun."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.datasets.dataset import Dataset
from pipelines.primitives import Example

TICKETS = Path(__file__).parent / "data" / "tickets.jsonl"
TEAMS = ("billing", "technical", "account", "feedback")
SPLITS = {"train": slice(0, 32), "dev": slice(32, 48), "test": slice(48, 64)}


def load_tickets(path: Path = TICKETS) -> Dataset:
    """64 tickets: 32 to train on, 16 to choose on (dev), 16 to report (test); `ticket` is the input."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    examples = [Example(row, input_keys=("ticket",)) for row in rows]
    return Dataset("tickets", {name: examples[rows_of] for name, rows_of in SPLITS.items()})
