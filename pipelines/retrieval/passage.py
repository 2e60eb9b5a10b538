"""`Passage`: one searchable text with its id, title and metadata; datasets and stores share it, so a
dataset's corpus is plain data that needs no index code to load."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    id: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoredPassage:
    passage: Passage
    score: float


def corpus_hash(passages: Sequence[Passage]) -> str:
    """A short hash of the passages' ids, titles and texts: names a corpus in caches and manifests."""
    digest = hashlib.sha256()
    for passage in passages:
        digest.update(json.dumps([passage.id, passage.title, passage.text], ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:16]
