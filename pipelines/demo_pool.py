"""`DemoPool`: demos chosen per call, those of the `k` training examples whose key fields are nearest the
call's, by the embeddings and FAISS index retrieval uses. A predictor with a pool shows those instead of its
fixed demos."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pipelines.fieldtypes import render
from pipelines.primitives import Example

if TYPE_CHECKING:  # the index is built on first use: declaring or loading a program loads no model
    from pipelines.retrieval.store import VectorStore


class DemoPool:
    """`demos` to choose from; `keys` are the input fields compared (the question, not the passages). Demos
    with the same key text are one example's (the steps of one agent run): a call is shown every demo of
    each of the `k` nearest examples, in the pool's order, the nearest example last, next to the call's own
    inputs. An example whose key text equals the call's is skipped, so a training example never answers
    itself."""

    def __init__(self, demos: Sequence[Example], *, k: int, keys: Sequence[str]):
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
        self._by_key: dict[str, list[Example]] = {}
        for demo in self.demos:
            self._by_key.setdefault(self.key_text(demo), []).append(demo)
        self._store: VectorStore | None = None
        self._lock = threading.Lock()

    def nearest(self, inputs: Mapping[str, Any]) -> list[Example]:
        """The demos for a call with these inputs, the nearest example's last."""
        if not self.demos:
            return []
        query = self.key_text(inputs)
        examples = list(self._by_key)
        hits = self._index().search(query, min(len(examples), self.k + 1))
        chosen = [examples[int(hit.passage.id)] for hit in hits if examples[int(hit.passage.id)] != query][:self.k]
        return [demo for key in reversed(chosen) for demo in self._by_key[key]]

    def key_text(self, values: Mapping[str, Any]) -> str:
        return "\n".join(render(values[key]) for key in self.keys)

    def _index(self) -> VectorStore:
        with self._lock:
            if self._store is None:
                from pipelines.retrieval.passage import Passage
                from pipelines.retrieval.store import VectorStore

                examples = [Passage(str(index), "", key) for index, key in enumerate(self._by_key)]
                self._store = VectorStore.build(examples, progress=False)
            return self._store

    def with_k(self, k: int) -> DemoPool:
        """This pool showing `k` examples per call, sharing its index (built now, once for every copy)."""
        self._index()
        return self._sharing(k)

    def __deepcopy__(self, memo: dict) -> DemoPool:
        """A copy shares the demos (examples are immutable) and the index built from them."""
        return self._sharing(self.k)

    def _sharing(self, k: int) -> DemoPool:
        copied = DemoPool(self.demos, k=k, keys=self.keys)
        copied._store = self._store
        return copied

    def __repr__(self) -> str:
        return f"DemoPool({len(self.demos)} demos, k={self.k}, keys={list(self.keys)})"
