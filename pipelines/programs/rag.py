"""`rag`: retrieve k passages, then answer with a chain of thought over them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.evaluation.metrics import Metric, exact_match, token_f1
from pipelines.modules import ChainOfThought, Module, Retrieve
from pipelines.primitives import Example, Prediction
from pipelines.retrieval.store import VectorStore
from pipelines.signatures import InputField, OutputField, Signature

DEFAULT_K = 3


class AnswerFromContext(Signature):
    """Answer the question using the context passages."""

    context: list[str] = InputField(desc="passages that may contain the answer")
    question: str = InputField()
    answer: str = OutputField(desc="a short answer of a few words, copied from the context where possible")


class RAG(Module):
    def __init__(self, store: VectorStore | None = None, k: int = DEFAULT_K) -> None:
        self.retrieve = Retrieve(store, k)
        self.generate = ChainOfThought(AnswerFromContext)

    def forward(self, question: str, k: int | None = None) -> Prediction:
        retrieved = self.retrieve(question, k)
        generated = self.generate(context=retrieved.passages, question=question)
        return Prediction({**generated, "passages": retrieved.passages, "passage_ids": retrieved.passage_ids,
                           "titles": retrieved.titles})


def retrieval_recall(require_all: bool) -> Metric:
    """Whether the retrieved passages include any (or all) of the example's gold titles."""
    def score(example: Example, outputs: Mapping[str, Any]) -> float:
        gold, found = set(example["gold_titles"]), set(outputs["titles"])
        return float(gold <= found if require_all else bool(gold & found))

    return Metric(f"recall_{'all' if require_all else 'any'}", score)


def rag_metrics() -> dict:
    return {"f1": token_f1("answer"), "exact_match": exact_match("answer"),
            "recall_any": retrieval_recall(require_all=False), "recall_all": retrieval_recall(require_all=True)}
