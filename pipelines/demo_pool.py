"""`DemoPool`: demos chosen per call, those of the `k` training examples whose key fields are nearest the
call's: by meaning (the embeddings and FAISS index retrieval uses), by the words they share (TF-IDF), or by
both ranks fused. A predictor with a pool shows those instead of its fixed demos."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pipelines.fieldtypes import render
from pipelines.primitives import Example

SIMILARITIES = ("semantic", "lexical", "hybrid")
"""How a pool compares inputs: by MiniLM embeddings (what they are about), by TF-IDF over their words and word
pairs (how they are put: TREC's "How many ..." questions are numeric whatever they ask about), or by both,
their rankings fused by reciprocal rank (Cormack et al., 2009)."""
RANK_CONSTANT = 60  # reciprocal rank fusion's k: a text's fused score is the sum of 1 / (60 + its rank)

Search = Callable[[str, int], list[int]]
"""A pool's index: the positions of the `n` key texts nearest a query, nearest first."""


class DemoPool:
    """`demos` to choose from; `keys` are the input fields compared (the question, not the passages). Demos
    with the same key text are one example's (the steps of one agent run): a call is shown every demo of
    each of the `k` nearest examples, in the pool's order, the nearest example last, next to the call's own
    inputs. An example whose key text equals the call's is skipped, so a training example never answers
    itself. `similarity` is one of `SIMILARITIES`."""

    def __init__(self, demos: Sequence[Example], *, k: int, keys: Sequence[str], similarity: str = "semantic"):
        check_similarity(similarity)
        if k < 1:
            raise ValueError(f"a demo pool shows at least 1 example per call, got k={k}")
        if not keys:
            raise ValueError("a demo pool needs at least one key field to compare inputs by")
        lacking = [index for index, demo in enumerate(demos) if any(key not in demo for key in keys)]
        if lacking:
            raise ValueError(f"demos {lacking[:5]} lack the key field(s) {', '.join(keys)}")
        self.demos = list(demos)
        self.k = k
        self.keys = tuple(keys)
        self.similarity = similarity
        self._by_key: dict[str, list[Example]] = {}
        for demo in self.demos:
            self._by_key.setdefault(self.key_text(demo), []).append(demo)
        self._search: Search | None = None
        self._lock = threading.Lock()

    def nearest(self, inputs: Mapping[str, Any]) -> list[Example]:
        """The demos for a call with these inputs, the nearest example's last."""
        if not self.demos:
            return []
        query = self.key_text(inputs)
        examples = list(self._by_key)
        positions = self._index()(query, min(len(examples), self.k + 1))
        chosen = [examples[position] for position in positions if examples[position] != query][:self.k]
        return [demo for key in reversed(chosen) for demo in self._by_key[key]]

    def key_text(self, values: Mapping[str, Any]) -> str:
        return "\n".join(render(values[key]) for key in self.keys)

    def _index(self) -> Search:
        """Built on first use: declaring or loading a program loads no model."""
        with self._lock:
            if self._search is None:
                self._search = nearest_search(list(self._by_key), self.similarity)
            return self._search

    def with_k(self, k: int) -> DemoPool:
        """This pool showing `k` examples per call, sharing its index (built now, once for every copy)."""
        self._index()
        return self._sharing(k)

    def __deepcopy__(self, memo: dict) -> DemoPool:
        """A copy shares the demos (examples are immutable) and the index built from them."""
        return self._sharing(self.k)

    def _sharing(self, k: int) -> DemoPool:
        copied = type(self)(self.demos, k=k, keys=self.keys, similarity=self.similarity)
        copied._search = self._search
        return copied

    def __repr__(self) -> str:
        return (f"DemoPool({len(self.demos)} demos, k={self.k}, keys={list(self.keys)}, "
                f"similarity={self.similarity!r})")


def check_similarity(similarity: str) -> None:
    """A ValueError naming the choices unless `similarity` is one of them."""
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {', '.join(SIMILARITIES)}, got {similarity!r}")


def nearest_search(texts: list[str], similarity: str) -> Search:
    """An index of `texts` that ranks them by `similarity` to a query (what a pool and a kNN vote use)."""
    return _INDEXES[similarity](texts)


def _semantic(texts: list[str]) -> Search:
    from pipelines.retrieval.passage import Passage
    from pipelines.retrieval.store import VectorStore

    store = VectorStore.build([Passage(str(index), "", text) for index, text in enumerate(texts)], progress=False)
    return lambda query, n: [int(hit.passage.id) for hit in store.search(query, n)]


def _lexical(texts: list[str]) -> Search:
    from pipelines.retrieval.lexical import LexicalIndex

    return LexicalIndex(texts).search


def _hybrid(texts: list[str]) -> Search:
    """Both rankings, each deep enough to hold most of the other's top, fused by reciprocal rank."""
    searches = (_semantic(texts), _lexical(texts))

    def search(query: str, n: int) -> list[int]:
        depth = min(len(texts), max(4 * n, 50))
        return fused([ranked(query, depth) for ranked in searches], n)

    return search


def fused(rankings: Sequence[Sequence[int]], n: int) -> list[int]:
    """The `n` best positions by reciprocal rank fusion of `rankings` (each nearest first): a text near the
    top of both beats one at the top of one and absent from the other; equal scores in position order."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, position in enumerate(ranking):
            scores[position] = scores.get(position, 0.0) + 1.0 / (RANK_CONSTANT + rank)
    return sorted(scores, key=lambda position: (-scores[position], position))[:n]


_INDEXES: dict[str, Callable[[list[str]], Search]] = {"semantic": _semantic, "lexical": _lexical,
                                                      "hybrid": _hybrid}
