import json

import numpy as np
import pytest

from pipelines.datasets import load_dataset
from pipelines.retrieval import Passage
from pipelines.retrieval.embedder import Embedder
from pipelines.retrieval.store import HNSW_EF_SEARCH, VectorStore, VectorStoreError
from tests.hotpotqa import HOTPOTQA_DIR, needs_hotpotqa

PASSAGES = [
    Passage("p1", "Paris", "Paris is the capital and largest city of France."),
    Passage("p2", "Moon", "The Moon is Earth's only natural satellite."),
    Passage("p3", "Banana", "A banana is an elongated, edible yellow fruit."),
    Passage("p4", "Python", "Python is a high-level programming language.", {"kind": "software"}),
]


class CountingEmbedder(Embedder):
    """The real embedder, counting the texts it is asked to encode."""

    def __init__(self):
        super().__init__()
        self.encoded = 0

    def encode(self, texts, **kwargs):
        self.encoded += len(texts)
        return super().encode(texts, **kwargs)


def test_search_finds_the_passage_by_meaning():
    store = VectorStore.build(PASSAGES, progress=False)
    hits = store.search("Which fruit is yellow?", k=2)
    assert hits[0].passage.id == "p3"
    assert hits[0].score > hits[1].score
    batch = store.search_batch(["capital of France", "a language for programs"], k=1)
    assert [hits[0].passage.id for hits in batch] == ["p1", "p4"]


def test_approximate_index_agrees_with_exact_search():
    exact = VectorStore.build(PASSAGES, progress=False)
    approximate = VectorStore.build(PASSAGES, approximate=True, progress=False)
    for query in ("satellite of the Earth", "French city", "coding"):
        assert [h.passage.id for h in approximate.search(query, 3)] == [h.passage.id for h in exact.search(query, 3)]


def test_approximate_scores_are_exact_inner_products_so_nothing_needs_re_ranking():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    passages = [Passage(str(index), "t", "x") for index in range(len(vectors))]
    store = VectorStore.from_vectors(passages, vectors, approximate=True)
    queries = vectors[:20] + 0.1 * rng.standard_normal((20, 32)).astype(np.float32)
    for query, hits in zip(queries, store.search_vectors(queries, 10), strict=True):
        exact = [float(vectors[int(hit.passage.id)] @ query) for hit in hits]
        assert [hit.score for hit in hits] == pytest.approx(exact, abs=1e-5)
        assert exact == sorted(exact, reverse=True)


def test_an_approximate_store_keeps_the_ef_search_it_is_given_and_an_exact_one_has_none(tmp_path):
    approximate = VectorStore.build(PASSAGES, approximate=True, progress=False)
    assert approximate.ef_search == HNSW_EF_SEARCH
    approximate.ef_search = 16
    approximate.save(tmp_path / "store")
    assert VectorStore.load(tmp_path / "store").ef_search == 16
    for wrong in (0, -3, 2.5, True, "64"):
        with pytest.raises(ValueError, match="ef_search must be a whole number"):
            approximate.ef_search = wrong
    exact = VectorStore.build(PASSAGES, progress=False)
    assert exact.ef_search is None
    with pytest.raises(VectorStoreError, match="an exact store has no efSearch"):
        exact.ef_search = 64


def test_round_trip_keeps_passages_metadata_and_results(tmp_path):
    store = VectorStore.build(PASSAGES, progress=False)
    store.save(tmp_path / "store")
    loaded = VectorStore.load(tmp_path / "store")
    assert loaded.passages == PASSAGES and loaded.corpus_hash == store.corpus_hash
    assert loaded.search("coding", 1)[0].passage.metadata == {"kind": "software"}
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert manifest["files"].startswith("v1-") and manifest["documents"]["p4"]["passages"] == 1
    assert manifest | {"corpus_hash": None, "files": None, "documents": None} == {
        "format": "sigflow.vectorstore", "version": 3, "store_version": 1, "files": None,
        "embedder": "all-MiniLM-L6-v2", "embedder_runtime": "openvino-int8", "dimension": 384, "count": 4,
        "corpus_hash": None, "index": "IndexFlatIP", "documents": None}
    assert sorted(path.name for path in (tmp_path / "store").iterdir()) == ["manifest.json", manifest["files"]]


def test_a_second_build_of_the_same_corpus_reuses_the_embeddings():
    embedder = CountingEmbedder()
    VectorStore.build(PASSAGES, embedder=embedder, progress=False)
    VectorStore.build(PASSAGES, embedder=embedder, progress=False)
    assert embedder.encoded == len(PASSAGES)


def test_a_store_of_another_embedder_is_refused(tmp_path):
    VectorStore.build(PASSAGES, progress=False).save(tmp_path / "store")

    class OtherEmbedder(Embedder):
        name = "other-model"

    with pytest.raises(VectorStoreError, match=r"built with the embedder 'all-MiniLM-L6-v2'.*'other-model'"):
        VectorStore.load(tmp_path / "store", embedder=OtherEmbedder())


def test_a_store_embedded_by_another_runtime_is_refused_its_own_runtime_is_chosen(tmp_path):
    VectorStore.build(PASSAGES, embedder=Embedder("torch"), progress=False).save(tmp_path / "store")
    with pytest.raises(VectorStoreError, match=r"'all-MiniLM-L6-v2' on torch.*'all-MiniLM-L6-v2' on openvino-int8"):
        VectorStore.load(tmp_path / "store", embedder=Embedder("openvino-int8"))
    assert VectorStore.load(tmp_path / "store").embedder.runtime == "torch"


def test_a_version_1_store_was_embedded_by_torch_and_still_loads(tmp_path):
    store = VectorStore.build(PASSAGES, embedder=Embedder("torch"), progress=False)
    store.save(tmp_path / "store")
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    del manifest["embedder_runtime"]
    (tmp_path / "store" / "manifest.json").write_text(json.dumps({**manifest, "version": 1}))
    loaded = VectorStore.load(tmp_path / "store")
    assert loaded.embedder.runtime == "torch"
    assert loaded.search("Which fruit is yellow?", 1)[0].passage.id == "p3"


def _files(directory):
    """The directory holding the current version's files."""
    return directory / json.loads((directory / "manifest.json").read_text())["files"]


def test_truncated_or_damaged_files_are_clear_errors(tmp_path):
    VectorStore.build(PASSAGES, progress=False).save(tmp_path / "store")
    passages_file = _files(tmp_path / "store") / "passages.jsonl"
    lines = passages_file.read_text().splitlines(keepends=True)
    passages_file.write_text("".join(lines[:3]))
    with pytest.raises(VectorStoreError, match="inconsistent"):
        VectorStore.load(tmp_path / "store")
    passages_file.write_text("".join(lines))
    (_files(tmp_path / "store") / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(VectorStoreError, match="cannot be read"):
        VectorStore.load(tmp_path / "store")
    with pytest.raises(VectorStoreError, match=r"no manifest\.json"):
        VectorStore.load(tmp_path / "nothing-here")


def test_a_wrong_count_in_the_manifest_is_refused(tmp_path):
    VectorStore.build(PASSAGES, progress=False).save(tmp_path / "store")
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    (tmp_path / "store" / "manifest.json").write_text(json.dumps({**manifest, "count": 5}))
    with pytest.raises(VectorStoreError, match="passage counts"):
        VectorStore.load(tmp_path / "store")


def test_building_from_nothing_is_an_error():
    with pytest.raises(VectorStoreError, match="no passages"):
        VectorStore.build([])


def test_a_store_from_vectors_answers_vector_queries_and_checks_the_counts():
    import numpy as np

    vectors = np.eye(4, 8, dtype=np.float32)
    passages = [Passage(id=f"p{index}", title="", text="") for index in range(4)]
    for approximate in (False, True):
        store = VectorStore.from_vectors(passages, vectors, approximate=approximate)
        assert [hit.passage.id for hit in store.search_vectors(vectors[[2]], 1)[0]] == ["p2"]
    with pytest.raises(VectorStoreError, match="3 passages but 4 vectors"):
        VectorStore.from_vectors(passages[:3], vectors)


@needs_hotpotqa
def test_recall_on_the_paragraphs_of_twenty_dev_questions():
    """Each question's own ten paragraphs (two gold, eight distractors), pooled for 20 questions."""
    dataset = load_dataset("hotpotqa", HOTPOTQA_DIR)
    rows = [json.loads(line) for line in (HOTPOTQA_DIR / "dev.jsonl").read_text().splitlines()[:20]]
    titles = {title for row in rows for title in row["context_titles"]}
    corpus = [passage for passage in dataset.corpus if passage.title in titles]
    store = VectorStore.build(corpus, progress=False)
    found_any = sum(bool(set(row["gold_titles"]) & {hit.passage.title for hit in store.search(row["question"], 5)})
                    for row in rows)
    assert len(corpus) >= 150
    assert found_any >= 17  # MiniLM finds a gold paragraph for nearly every question
