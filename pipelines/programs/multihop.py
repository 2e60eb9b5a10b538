"""`multihop`: search, write the next query from what was found, search again, then answer from every passage
found. A multi-hop question names one entity and asks about another that only the first passage leads to; a
single search from the question finds both gold passages of HotpotQA for about a third of its questions.

The first search is the question itself by default: on the first 30 HotpotQA dev questions, with the embedded
model writing the queries, both gold passages were among those found for 19 (0.633) that way, and for 12
(0.40) when the first query was written too (`question_first=False`, the form of DSPy's tutorials), whose
written first queries often guessed the answer instead of naming what to look up."""

from __future__ import annotations

from pipelines.modules import ChainOfThought, Module, Predict, Retrieve
from pipelines.primitives import Prediction
from pipelines.programs.rag import DEFAULT_K, AnswerFromContext
from pipelines.retrieval.store import VectorStore
from pipelines.signatures import InputField, OutputField, Signature

DEFAULT_HOPS = 2


class WriteQuery(Signature):
    """Write a search query for the passage still needed to answer the question."""

    context: list[str] = InputField(desc="passages found so far")
    question: str = InputField()
    query: str = OutputField(desc="a short search query of a few words")


class MultiHop(Module):
    """`hops` searches of `k` new passages each. With `question_first`, the first search is the question
    itself and only the later queries are written."""

    def __init__(self, store: VectorStore | None = None, k: int = DEFAULT_K, hops: int = DEFAULT_HOPS,
                 question_first: bool = True) -> None:
        if hops < 1:
            raise ValueError(f"hops must be at least 1, got {hops}")
        self.retrieve = Retrieve(store, k)
        self.question_first = question_first
        self.write_query = [Predict(WriteQuery) for _ in range(hops - question_first)]
        self.generate = ChainOfThought(AnswerFromContext)

    def forward(self, question: str, k: int | None = None) -> Prediction:
        """`k` passages per search (default: the module's)."""
        k = k or self.retrieve.k
        found: dict[str, tuple[str, str]] = {}  # passage id -> (text, title), in the order first found
        queries = [question] if self.question_first else []
        if self.question_first:
            self._search(question, k, found)
        for write_query in self.write_query:
            context = [text for text, _ in found.values()]
            queries.append(write_query(context=context, question=question).query)
            self._search(queries[-1], k, found)
        passages = [text for text, _ in found.values()]
        generated = self.generate(context=passages, question=question)
        return Prediction({**generated, "queries": queries, "passages": passages, "passage_ids": list(found),
                           "titles": [title for _, title in found.values()]})

    def _search(self, query: str, k: int, found: dict[str, tuple[str, str]]) -> None:
        """Add the `k` nearest passages not found yet: a later query near an earlier one still adds `k`."""
        retrieved = self.retrieve(query, k + len(found))
        new = [(passage_id, text, title) for passage_id, text, title
               in zip(retrieved.passage_ids, retrieved.passages, retrieved.titles, strict=True)
               if passage_id not in found]
        for passage_id, text, title in new[:k]:
            found[passage_id] = (text, title)
