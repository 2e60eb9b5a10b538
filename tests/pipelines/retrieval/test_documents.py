"""Documents read from the user's files: ids, titles, groups, passages, and a clear error for each bad file."""

import json

import matplotlib
import pytest

from pipelines.retrieval.documents import DocumentError, read_documents

matplotlib.use("Agg")


def _pdf(path, lines):
    """A real PDF with selectable text (matplotlib's PDF backend with TrueType fonts)."""
    import matplotlib.pyplot as plt

    with plt.rc_context({"pdf.fonttype": 42}):
        figure = plt.figure(figsize=(6, 2))
        for number, line in enumerate(lines):
            figure.text(0.05, 0.8 - 0.2 * number, line)
        figure.savefig(path)
        plt.close(figure)
    return path


def test_each_kind_of_file_is_a_document_named_after_the_file(tmp_path):
    (tmp_path / "leave.md").write_text("# Leave policy\n\nEveryone gets 25 days of paid leave.\n")
    (tmp_path / "deploys.txt").write_text("Deploys\nProduction deploys happen on Tuesdays.\n")
    _pdf(tmp_path / "expenses.pdf", ["Expense policy", "Meals abroad are refunded up to 40 euros a day."])
    documents = {document.id: document for document in read_documents([tmp_path], groups=["hr"])}
    assert set(documents) == {"leave", "deploys", "expenses"}
    assert documents["leave"].title == "Leave policy" and documents["leave"].text.startswith("Everyone gets")
    assert "40 euros" in documents["expenses"].text and documents["expenses"].title == "Expense policy"
    assert all(document.groups == ("hr",) for document in documents.values())
    (passage,) = documents["deploys"].passages()
    assert passage.id == "deploys#0" and passage.metadata == {
        "document_id": "deploys", "source": str(tmp_path / "deploys.txt"), "groups": ["hr"]}


def test_a_jsonl_file_names_its_own_documents_and_their_groups(tmp_path):
    rows = [{"id": "faq-1", "title": "VPN", "text": "Connect to the VPN before opening the wiki.", "groups": ["eng"]},
            {"id": "faq-2", "text": "The office opens at eight."}]
    (tmp_path / "faq.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    first, second = read_documents([tmp_path / "faq.jsonl"], groups=["staff"])
    assert (first.id, first.title, first.groups) == ("faq-1", "VPN", ("eng",))
    assert (second.id, second.groups) == ("faq-2", ("staff",))


def test_a_long_document_is_split_into_passages_of_about_a_hundred_words(tmp_path):
    (tmp_path / "long.txt").write_text("Long\n" + " ".join(f"word{index}" for index in range(230)))
    (document,) = read_documents([tmp_path / "long.txt"])
    assert [len(passage.text.split()) for passage in document.passages()] == [100, 130]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("notes.docx", "x", r"documents are \.txt, \.md, \.markdown, \.pdf, \.jsonl files, not \.docx"),
    ("empty.md", "\n\n", "holds no text"),
    ("bad.jsonl", '{"id": "a", "text": "fine"}\n{"id": \n', "line 2 is not JSON"),
    ("noid.jsonl", '{"text": "no id"}\n', "line 1: each line is an object with an `id` and a `text`"),
    ("groups.jsonl", '{"id": "a", "text": "t", "groups": "hr"}\n', "line 1: `groups` is a list of group names"),
    ("broken.pdf", "not a pdf", "cannot be read as a PDF"),
])
def test_a_file_that_cannot_be_read_is_named_with_what_is_wrong(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(DocumentError, match=message):
        read_documents([tmp_path / name])


def test_two_documents_with_one_id_or_a_missing_path_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "policy.md").write_text("Policy\nOne.")
    (tmp_path / "b" / "policy.txt").write_text("Policy\nTwo.")
    with pytest.raises(DocumentError, match="the document id 'policy' comes from both"):
        read_documents([tmp_path])
    with pytest.raises(DocumentError, match="no such file or directory"):
        read_documents([tmp_path / "missing.md"])
