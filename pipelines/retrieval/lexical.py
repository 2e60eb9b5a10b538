"""`LexicalIndex`: the texts nearest a query by the words they share, for demo pools whose examples differ
more in form than in topic. A sentence embedding places "How many people live in Tokyo?" beside the other
questions about Tokyo; the words it shares place it beside the other "How many ..." questions, which are
the ones that show what kind of answer it wants."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class LexicalIndex:
    """`texts` as TF-IDF vectors over words and pairs of words (scikit-learn, fit on the texts themselves: no
    model, nothing downloaded); `search` ranks them by cosine to a query."""

    def __init__(self, texts: Sequence[str]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        if not texts:
            raise ValueError("a lexical index needs at least one text")
        self._vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        try:
            self._vectors = self._vectorizer.fit_transform(texts)
        except ValueError as error:  # scikit-learn's "empty vocabulary"
            raise ValueError(f"a lexical index needs texts with words in them: {error}") from error

    def search(self, query: str, n: int) -> list[int]:
        """The positions of the `n` texts nearest `query`, nearest first; equal scores in the texts' order."""
        scores = (self._vectorizer.transform([query]) @ self._vectors.T).toarray()[0]
        return np.argsort(-scores, kind="stable")[:n].tolist()
