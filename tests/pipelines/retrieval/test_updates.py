"""Stores that change: documents added, replaced, regrouped and removed with only new passages embedded,
each change a new version switched to in one step, so a crash leaves the previous one loadable."""

import json

import pytest

from pipelines.retrieval import Document, VectorStore, VectorStoreError, add_files, remove_documents
from pipelines.retrieval import store as store_module
from pipelines.retrieval.updates import with_documents, without_documents
from tests.pipelines.retrieval.test_store import PASSAGES, CountingEmbedder

LEAVE = Document("leave", "Leave policy", "Everyone gets 25 days of paid leave a year.", ("hr",))
DEPLOYS = Document("deploys", "Deploys", "Production deploys happen on Tuesdays after the review.", ("eng",))


@pytest.fixture
def embedder():
    return CountingEmbedder()


@pytest.fixture
def base(embedder):
    return VectorStore.build(PASSAGES, embedder=embedder, progress=False)


def test_only_new_or_changed_documents_are_embedded(base, embedder):
    before = embedder.encoded
    added, report = with_documents(base, [LEAVE, DEPLOYS])
    assert (report.added, report.embedded_passages, embedder.encoded - before) == (["leave", "deploys"], 2, 2)
    assert added.version == 2 and len(added) == len(PASSAGES) + 2
    same, report = with_documents(added, [LEAVE])
    assert same is added and report.unchanged == ["leave"] and embedder.encoded - before == 2
    changed = Document("leave", "Leave policy", "Everyone gets 30 days of paid leave a year.", ("hr",))
    replaced, report = with_documents(added, [changed, Document("deploys", DEPLOYS.title, DEPLOYS.text, ("ops",))])
    assert (report.replaced, report.regrouped, report.embedded_passages) == (["leave"], ["deploys"], 1)
    assert embedder.encoded - before == 3 and replaced.version == 3
    hit = replaced.search("How many days of leave?", 1)[0].passage
    assert "30 days" in hit.text
    assert next(p for p in replaced.passages if p.id == "deploys#0").metadata["groups"] == ["ops"]


def test_removing_a_document_keeps_the_other_vectors_and_refuses_unknown_ids(base, embedder):
    added, _ = with_documents(base, [LEAVE, DEPLOYS])
    before = embedder.encoded
    removed, report = without_documents(added, ["leave"])
    assert report.removed == ["leave"] and embedder.encoded == before and removed.version == 3
    assert [hit.passage.id for hit in removed.search("paid leave", 6)].count("leave#0") == 0
    assert removed.search("Which fruit is yellow?", 1)[0].passage.id == "p3"
    with pytest.raises(VectorStoreError, match="holds no document 'nope'"):
        without_documents(added, ["nope"])


def test_a_crash_between_writing_and_switching_leaves_the_previous_version_loadable(tmp_path, base, monkeypatch):
    directory = tmp_path / "store"
    base.save(directory)
    added, _ = with_documents(base, [LEAVE])

    def crash(pending, manifest):
        raise KeyboardInterrupt("killed before the switch")

    monkeypatch.setattr(store_module, "_switch", crash)
    with pytest.raises(KeyboardInterrupt):
        added.save(directory)
    assert len([path for path in directory.iterdir() if path.is_dir()]) == 2  # the new files, never switched to
    survivor = VectorStore.load(directory)
    assert survivor.version == 1 and len(survivor) == len(PASSAGES)
    monkeypatch.undo()
    added.save(directory)
    loaded = VectorStore.load(directory)
    assert loaded.version == 2 and len(loaded) == len(PASSAGES) + 1
    manifest = json.loads((directory / "manifest.json").read_text())
    assert sorted(path.name for path in directory.iterdir()) == ["manifest.json", manifest["files"]]
    assert manifest["store_version"] == 2 and manifest["documents"]["leave"]["groups"] == ["hr"]


def test_a_store_saved_before_versions_had_directories_loads_and_moves_on_at_its_next_save(tmp_path, base):
    directory = tmp_path / "store"
    base.save(directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    files = directory / manifest.pop("files")
    for path in files.iterdir():
        path.rename(directory / path.name)
    files.rmdir()
    (directory / "manifest.json").write_text(json.dumps({**manifest, "version": 2}))
    old = VectorStore.load(directory)
    assert old.version == 1 and old.search("Which fruit is yellow?", 1)[0].passage.id == "p3"
    with_documents(old, [LEAVE])[0].save(directory)
    assert not (directory / "passages.jsonl").exists() and VectorStore.load(directory).version == 2


def test_add_files_creates_the_store_then_adds_and_remove_documents_removes(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "leave.md").write_text("# Leave policy\nEveryone gets 25 days of paid leave a year.\n")
    first = add_files(tmp_path / "store", [tmp_path / "docs"], groups=["hr"])
    assert (first.version, first.added, first.embedded_passages) == (1, ["leave"], 1)
    (tmp_path / "docs" / "deploys.txt").write_text("Deploys\nProduction deploys happen on Tuesdays.\n")
    second = add_files(tmp_path / "store", [tmp_path / "docs"], groups=["hr"])
    assert (second.version, second.added, second.unchanged, second.embedded_passages) == (2, ["deploys"], ["leave"], 1)
    third = remove_documents(tmp_path / "store", ["leave"])
    assert third.version == 3 and [p.id for p in VectorStore.load(tmp_path / "store").passages] == ["deploys#0"]
    with pytest.raises(VectorStoreError, match="empty store"):
        remove_documents(tmp_path / "store", ["deploys"])
