"""`multihop`: write a search query, retrieve, write the next query from what was found, retrieve again, then
answer from every passage found. A multi-hop question names one entity and asks about another that only the
first passage leads to; a single search from the question finds both gold passages of HotpotQA for about a
third of its questions."""

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
    def __init__(self, store: VectorStore | None = None, k: int = DEFAULT_K, hops: int = DEFAULT_HOPS) -> None:
        if hops < 1:
            raise ValueError(f"hops must be at least 1, got {hops}")
        self.retrieve = Retrieve(store, k)
        self.write_query = [Predict(WriteQuery) for _ in range(hops)]
        self.generate = ChainOfThought(AnswerFromContext)

    def forward(self, question: str) -> Prediction:
        found: dict[str, tuple[str, str]] = {}  # passage id -> (text, title), in the order first found
        queries = []
        for write_query in self.write_query:
            context = [text for text, _ in found.values()]
            queries.append(write_query(context=context, question=question).query)
            retrieved = self.retrieve(queries[-1])
            for passage_id, text, title in zip(retrieved.passage_ids, retrieved.passages, retrieved.titles,
                                               strict=True):
                found.setdefault(passage_id, (text, title))
        generated = self.generate(context=[text for text, _ in found.values()], question=question)
        return Prediction({**generated, "queries": queries, "passage_ids": list(found),
                           "titles": [title for _, title in found.values()]})
