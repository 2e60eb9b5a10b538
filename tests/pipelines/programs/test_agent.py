import pytest

from pipelines import Example, ScriptedLM, context
from pipelines.programs.agent import Agent, agent_metrics, tools_used
from pipelines.programs.bbc_tools import MAX_ROWS, ArticleTable
from pipelines.retrieval.passage import Passage
from pipelines.retrieval.store import VectorStore


def passage(article: str, index: int, words: int, headline: str) -> Passage:
    category = article.split("/")[0]
    return Passage(id=f"{article}#{index}", title=headline, text=" ".join(["word"] * words),
                   metadata={"article_id": article, "category": category})


PASSAGES = [passage("tech/001", 0, 100, "Phones get smarter"), passage("tech/001", 1, 40, "Phones get smarter"),
            passage("sports/001", 0, 90, "Cup final tonight")]


@pytest.fixture(scope="module")
def tiny_bbc_store() -> VectorStore:
    texts = [("business/001", "Oil falls", "Brent crude fell below $40 a barrel " + "word " * 113),
             ("sports/002", "Cup final tonight", "The cup final kicks off at eight " + "word " * 50)]
    return VectorStore.build([Passage(id=f"{article}#0", title=title, text=text.strip(),
                                      metadata={"article_id": article, "category": article.split("/")[0]})
                              for article, title, text in texts], progress=False)


def test_the_table_has_one_row_per_article_with_its_words():
    table = ArticleTable(PASSAGES)
    assert table.query("SELECT id, category, words FROM articles ORDER BY id") == (
        "id | category | words\nsports/001 | sports | 90\ntech/001 | tech | 140")
    assert table.query("SELECT id FROM articles WHERE words > 1000") == "id\n(no rows)"


@pytest.mark.parametrize(("sql", "message"), [
    ("DELETE FROM articles", "the query failed: the table is read-only"),
    ("PRAGMA query_only = OFF", "the query failed: the table is read-only"),
    ("ATTACH DATABASE ':memory:' AS other", "the query failed: the table is read-only"),
    ("SELECT colour FROM articles", "the query failed: no such column: colour"),
    ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
     "the query failed: it ran longer than the time limit"),
])
def test_writes_errors_and_endless_queries_are_refused_with_sqlites_reason(sql, message):
    table = ArticleTable(PASSAGES)
    with pytest.raises(ValueError, match=message):
        table.query(sql)
    assert len(table) == 2


def test_long_results_are_cut_and_say_so():
    many = [passage(f"tech/{index:03d}", 0, 10, f"headline {index}") for index in range(MAX_ROWS + 5)]
    lines = ArticleTable(many).query("SELECT id FROM articles").splitlines()
    assert len(lines) == MAX_ROWS + 2 and lines[-1] == f"(only the first {MAX_ROWS} rows are shown)"


def test_passages_without_article_metadata_are_refused():
    with pytest.raises(ValueError, match="passage 'p1' has no article_id or category in its metadata"):
        ArticleTable([Passage(id="p1", title="t", text="x")])


def test_the_agent_searches_and_queries_then_answers_and_is_scored_on_both(tiny_bbc_store):
    agent = Agent(tiny_bbc_store)
    steps = ['next_thought: find it\nnext_tool_name: search_articles\nnext_tool_args: {"query": "Brent crude"}',
             "next_thought: its length\nnext_tool_name: sql\nnext_tool_args: "
             "{\"query\": \"SELECT words FROM articles WHERE id = 'business/001'\"}",
             "next_thought: done\nnext_tool_name: finish\nnext_tool_args: {}",
             "reasoning: the table says\nanswer: 120"]
    with ScriptedLM(steps) as fake, context(lm=fake.lm()):
        prediction = agent(question="How long is the article about Brent crude?")
    trajectory = prediction.trajectory
    assert 'article business/001, "Oil falls": Brent crude' in trajectory[0]["observation"]
    assert trajectory[1]["observation"] == "words\n120"
    assert tools_used(prediction) == {"search_articles", "sql"}
    metrics = agent_metrics()
    both = Example(question="q", answer="120", tools=["search_articles", "sql"]).with_inputs("question")
    guessed = Example(question="q", answer="120", tools=["search_articles", "sql", "calculator"]).with_inputs(
        "question")
    assert metrics["score"].score(both, prediction) == 1.0 and metrics["right_tools"].score(both, prediction) == 1.0
    assert metrics["score"].score(guessed, prediction) == 0.0 and metrics["exact_match"].score(guessed, prediction)
