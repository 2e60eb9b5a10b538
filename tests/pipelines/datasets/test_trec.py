from collections import Counter

import pytest

from pipelines.datasets import TREC_LABELS, load_trec
from pipelines.datasets.trec import trec_file


def test_split_sizes_and_dev_label_counts_match_the_documented_split():
    splits = load_trec()
    assert {name: len(rows) for name, rows in splits.items()} == {"test": 500, "dev": 300, "train": 4581}
    assert Counter(row.label for row in splits["dev"]) == {
        "ENTY": 69, "DESC": 65, "HUM": 65, "NUM": 50, "LOC": 46, "ABBR": 5}
    assert {row.label for row in splits["train"]} == set(TREC_LABELS)


def test_a_different_file_is_refused_by_the_checksum(tmp_path):
    altered = tmp_path / "questions.txt"
    altered.write_text(trec_file().read_text(encoding="utf-8", errors="replace").replace("What", "Which"))
    with pytest.raises(ValueError, match="checksum"):
        load_trec(altered)
