import json
from collections import Counter

import pytest

from pipelines.corpus_packages import bbc_articles_dir
from pipelines.datasets import TEAMS, load_dataset
from pipelines.datasets.bbc import QUESTIONS, TEST_QUESTIONS, passages, small_corpus
from tests.hotpotqa import HOTPOTQA_DIR, needs_hotpotqa


@pytest.mark.parametrize(("path", "per_category"), [(QUESTIONS, 15), (TEST_QUESTIONS, 12)])
def test_bbc_questions_are_answered_by_their_article(path, per_category):
    questions = json.loads(path.read_text())
    assert Counter(q["category"] for q in questions) == {c: per_category for c in
                                                          ("business", "entertainment", "politics", "sports", "tech")}
    assert len({q["id"] for q in questions}) == len(questions)
    for question in questions:
        article = (bbc_articles_dir() / f"{question['article_id']}.txt").read_text(encoding="utf-8", errors="replace")
        assert question["answer"].lower() in article.lower(), question["id"]


def test_bbc_test_questions_come_from_articles_the_others_do_not():
    chosen_on, held_out = ({q["article_id"] for q in json.loads(path.read_text())}
                           for path in (QUESTIONS, TEST_QUESTIONS))
    assert len(held_out) == 60 and not chosen_on & held_out


def test_bbc_passages_keep_their_article_and_headline():
    found = passages()
    assert len({p.metadata["article_id"] for p in found}) == 2225
    first = found[0]
    assert first.id == "business/001#0" and first.metadata == {"article_id": "business/001", "category": "business"}
    assert 40 <= sum(len(p.text.split()) for p in found) / len(found) <= 140


def test_bbc_dataset_splits_and_gold_titles():
    dataset = load_dataset("bbc")
    assert {name: len(split) for name, split in dataset.splits.items()} == {"train": 35, "dev": 40, "test": 60}
    example = dataset.split("dev")[0]
    assert example.inputs() == {"question": example.question}
    headlines = {p.metadata["article_id"]: p.title for p in dataset.corpus}
    assert example.gold_titles == [headlines[example.article_id]]


@needs_hotpotqa
def test_bbc_small_corpus_keeps_every_question_answerable():
    dataset = load_dataset("bbc")
    corpus = small_corpus(dataset, extra_passages=10)
    articles = {passage.metadata["article_id"] for passage in corpus}
    questions = [example for split in ("train", "dev") for example in dataset.split(split)]
    assert {example.article_id for example in questions} <= articles
    own = [p for p in corpus if p.metadata["article_id"] in {e.article_id for e in questions}]
    assert len(corpus) == len(own) + 10 < len(dataset.corpus) / 20


def test_hotpotqa_loads_from_its_directory():
    dataset = load_dataset("hotpotqa", HOTPOTQA_DIR)
    assert (len(dataset.split("train")), len(dataset.split("dev")), len(dataset.corpus)) == (725, 300, 14766)
    assert len(dataset.split("dev")[0].gold_titles) == 2


def test_hotpotqa_needs_a_directory_with_its_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"needs --data-dir"):
        load_dataset("hotpotqa")
    (tmp_path / "train.jsonl").write_text("")
    with pytest.raises(FileNotFoundError, match=r"lacks dev\.jsonl, corpus\.jsonl"):
        load_dataset("hotpotqa", tmp_path)


def test_unknown_dataset_and_split_are_named():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; choose one of trec, bbc, bbc-agent, hotpotqa, "
                                         "tickets"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="no split 'validation'; it has test, dev, train"):
        load_dataset("trec").split("validation")


def test_tickets_splits_are_fixed_and_hold_every_team():
    tickets = load_dataset("tickets")
    assert {name: len(examples) for name, examples in tickets.splits.items()} == {"train": 32, "dev": 16, "test": 16}
    ids = [example.example_id for examples in tickets.splits.values() for example in examples]
    assert ids == [f"t{number:02d}" for number in range(1, 65)]
    for examples in tickets.splits.values():
        assert {example["team"] for example in examples} == set(TEAMS)
        assert all(example.inputs() == {"ticket": example["ticket"]} and example["summary"] for example in examples)
