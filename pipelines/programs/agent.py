"""`agent`: a ReAct agent with two tools over the BBC News articles, in the pattern of a multi-tool
assistant: a vector-store search for what the articles report, and SQL over their metadata for counts,
lengths, headlines and ids. Its metric checks both the answer and that the tools the question needs were
used."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.evaluation.metrics import Metric, exact_match, token_f1
from pipelines.modules import Module, ReAct, Retrieve
from pipelines.modules.react import TRAJECTORY
from pipelines.primitives import Prediction
from pipelines.programs.bbc_tools import ArticleTable, render_hits
from pipelines.retrieval.store import VectorStore
from pipelines.signatures import InputField, OutputField, Signature
from pipelines.tools import FINISH

SEARCH_K = 3
MAX_STEPS = 4


class AnswerWithTools(Signature):
    """Answer the question about the BBC News articles. Use search_articles to find what an article reports;
    use sql to count articles or to look up an article's category, headline or length in words."""

    question: str = InputField()
    answer: str = OutputField(desc="a short answer: a name, a number or an article id, nothing more")


class Agent(Module):
    """`store` holds BBC News passages (`pipelines.datasets.bbc.passages`); the table is built from them."""

    def __init__(self, store: VectorStore | None = None, k: int = SEARCH_K, max_steps: int = MAX_STEPS) -> None:
        self.retrieve = Retrieve(store, k)
        self.table = ArticleTable(store.passages) if store is not None else None
        self.react = ReAct(AnswerWithTools, [self.search_articles, self.sql], max_steps=max_steps)

    def forward(self, question: str) -> Prediction:
        return self.react(question=question)

    def search_articles(self, query: str) -> str:
        """Find the passages of BBC articles that report a fact, an event or a person; each result names its
        article id and headline."""
        found = self.retrieve(query)
        return render_hits(found.passage_ids, found.titles, found.passages)

    def sql(self, query: str) -> str:
        """Count articles, or look up their category, headline or length, with one SQLite SELECT on the table
        articles(id, category, headline, words); ids look like 'tech/042'; categories are business,
        entertainment, politics, sports and tech."""
        if self.table is None:
            raise ValueError("the agent has no articles table: build it over a store of BBC News passages")
        return self.table.query(query)


def tools_used(outputs: Mapping[str, Any]) -> set[str]:
    """The tools a prediction's trajectory called (whatever they returned)."""
    return {step["tool"] for step in outputs.get(TRAJECTORY, []) if step["tool"] not in ("", FINISH)}


def right_tools() -> Metric:
    """Whether the agent called every tool the question needs."""
    return Metric("right_tools", lambda example, outputs: float(set(example["tools"]) <= tools_used(outputs)))


def agent_score() -> Metric:
    """The answer's token F1, counted only when the right tools were used: a right guess without looking
    it up scores nothing."""
    f1, tools = token_f1("answer"), right_tools()
    return Metric("score", lambda example, outputs: f1.score(example, outputs) * tools.score(example, outputs))


def agent_metrics() -> dict[str, Metric]:
    return {"score": agent_score(), "exact_match": exact_match("answer"), "f1": token_f1("answer"),
            "right_tools": right_tools()}

