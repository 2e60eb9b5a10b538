import json
from collections import Counter

import pytest

from pipelines.corpus_packages import bbc_articles_dir
from pipelines.datasets import load_dataset
from pipelines.datasets.bbc import QUESTIONS as RAG_QUESTIONS
from pipelines.datasets.bbc import passages
from pipelines.datasets.bbc_agent import DEV_PER_KIND, QUESTIONS, TOOLS_BY_KIND, load_bbc_agent
from pipelines.programs.bbc_tools import ArticleTable

ITEMS = json.loads(QUESTIONS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def table() -> ArticleTable:
    return ArticleTable(passages())


def test_every_looked_up_answer_is_what_its_query_gives_and_its_labelled_call_runs_it(table):
    looked_up = [item for item in ITEMS if "gold_sql" in item]
    assert len(looked_up) == 46
    for item in looked_up:
        _header, value = table.query(item["gold_sql"]).splitlines()
        assert value == item["answer"], item["id"]
        assert item["calls"][-1]["arguments"] == {"query": item["gold_sql"]}


def test_every_searched_fact_is_in_its_article_and_no_article_is_shared_with_the_rag_questions():
    rag_articles = {question["article_id"] for question in json.loads(RAG_QUESTIONS.read_text(encoding="utf-8"))}
    searched = [item for item in ITEMS if item["kind"] != "sql"]
    for item in searched:
        body = (bbc_articles_dir() / f"{item['article_id']}.txt").read_text(encoding="utf-8", errors="replace")
        assert item["evidence"] in body.partition("\n")[2], item["id"]
        if item["kind"] == "search":
            assert item["answer"] in item["evidence"], item["id"]
    articles = [item["article_id"] for item in searched]
    assert len(set(articles)) == len(articles) and not set(articles) & rag_articles


def test_the_splits_hold_every_kind_with_the_tools_it_needs():
    dataset = load_dataset("bbc-agent")
    dev, train = dataset.split("dev"), dataset.split("train")
    assert Counter(example.kind for example in dev) == dict.fromkeys(TOOLS_BY_KIND, DEV_PER_KIND)
    assert len(train) + len(dev) == len(ITEMS) == 68
    assert not {example.id for example in dev} & {example.id for example in train}
    assert all(example.tools == list(TOOLS_BY_KIND[example.kind]) for example in train + dev)
    assert all([call["tool"] for call in example.calls] == example.tools for example in train + dev)
    assert dataset.store_name == "bbc" and dataset.split("dev")[0].inputs().keys() == {"question"}


def test_a_question_of_an_unknown_kind_is_named(tmp_path):
    broken = tmp_path / "questions.json"
    broken.write_text(json.dumps([{"id": "x1", "kind": "guess", "question": "q", "answer": "a"}]))
    with pytest.raises(ValueError, match="question x1 has kind 'guess'; expected one of search, sql, both"):
        load_bbc_agent(broken)
