"""The fixed texts that set the int8 embedding model's activation ranges: the headline (as short as a query)
and the opening hundred words (as long as a passage) of every eighth BBC article. Fixed, so that every
machine quantizes to the same model; news prose, so that retrieval is measured on corpora it was not
calibrated on (HotpotQA's Wikipedia paragraphs in `embedding_runtime`)."""

from __future__ import annotations

from pipelines.corpus_packages import bbc_articles_dir

EVERY_NTH_ARTICLE = 8
OPENING_WORDS = 100


def calibration_texts() -> list[str]:
    articles = sorted(bbc_articles_dir().glob("*/*.txt"))[::EVERY_NTH_ARTICLE]
    texts = []
    for path in articles:
        headline, _, body = path.read_text(encoding="utf-8", errors="replace").partition("\n")
        texts += [headline.strip(), f"{headline.strip()}\n{' '.join(body.split()[:OPENING_WORDS])}"]
    return texts
