"""What TREC's labels alone give, with no LM: a k-nearest-neighbour vote over MiniLM embeddings (the same
embedder and FAISS index `KNNFewShot` chooses demos with) and a TF-IDF + linear SVM (scikit-learn), both fit
on the train split, scored on dev (300) and test (500) with 95% bootstrap intervals. The LM-based methods in
`optimizers_trec` are read against these."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from benchmarks.optimizers_trec import FULL, QUICK, splits
from benchmarks.stats import shown, with_interval
from pipelines.retrieval.passage import Passage
from pipelines.retrieval.store import VectorStore

NEIGHBOURS = (1, 5, 15)


def _knn_vote(train: list, examples: list, k: int, store: VectorStore) -> list[float]:
    """Right (1.0) or not per example: the most common label of its `k` nearest training questions."""
    labels = [example.label for example in train]
    hits = store.search_batch([example.question for example in examples], k)
    votes = [Counter(labels[int(hit.passage.id)] for hit in found).most_common(1)[0][0] for found in hits]
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
    store = VectorStore.build([Passage(str(index), "", example.question) for index, example in enumerate(train)],
                              progress=False)
    methods = {f"kNN vote (k={k})": lambda examples, k=k: _knn_vote(train, examples, k, store) for k in NEIGHBOURS}
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
