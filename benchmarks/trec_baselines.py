"""What TREC's labels alone give, with no LM: a k-nearest-neighbour vote of the training questions nearest
each question, by each similarity `KNNFewShot` chooses demos with (MiniLM embeddings and FAISS, TF-IDF over
words and word pairs, both rankings fused), and a TF-IDF + linear SVM (scikit-learn), all fit on the train
split, scored on dev (300) and test (500) with 95% bootstrap intervals. The LM-based methods in
`optimizers_trec` are read against these."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from benchmarks.optimizers_trec import FULL, QUICK, splits
from benchmarks.stats import shown, with_interval
from pipelines.demo_pool import SIMILARITIES, Search, nearest_search

NEIGHBOURS = (1, 4, 5, 8, 15, 16)


def _knn_vote(train: list, examples: list, k: int, search: Search) -> list[float]:
    """Right (1.0) or not per example: the most common label of its `k` nearest training questions (the
    nearest's label first among equals)."""
    labels = [example.label for example in train]
    votes = [Counter(labels[position] for position in search(example.question, k)).most_common(1)[0][0]
             for example in examples]
    return [float(vote == example.label) for vote, example in zip(votes, examples, strict=True)]


def _svm(train: list, examples: list) -> list[float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LinearSVC(C=1.0))
    model.fit([example.question for example in train], [example.label for example in train])
    predicted = model.predict([example.question for example in examples])
    return [float(label == example.label) for label, example in zip(predicted, examples, strict=True)]


def run(quick: bool) -> dict[str, Any]:
    train, dev, test = splits(QUICK if quick else FULL)
    started = time.perf_counter()
    questions = [example.question for example in train]
    methods = {}
    for similarity in SIMILARITIES:
        search = nearest_search(questions, similarity)
        methods |= {f"kNN vote, {similarity} (k={k})": lambda examples, k=k, search=search:
                    _knn_vote(train, examples, k, search) for k in NEIGHBOURS}
    methods["TF-IDF + linear SVM"] = lambda examples: _svm(train, examples)
    rows = [{"method": name, "dev": with_interval(score(dev)), "test": with_interval(score(test))}
            for name, score in methods.items()]
    return {"train": len(train), "dev": len(dev), "test": len(test), "rows": rows,
            "seconds": time.perf_counter() - started}


def report(result: dict[str, Any]) -> str:
    rows = [f"| {row['method']} | {shown(row['dev'])} | {shown(row['test'])} |" for row in result["rows"]]
    return "\n".join([
        f"Fit on {result['train']} training questions; accuracy with 95% bootstrap intervals.", "",
        "| method | dev accuracy | test accuracy |", "|---|---|---|", *rows, "",
        f"All of it took {result['seconds']:.0f} s, embedding included: no LM call."])
