"""Documents a user adds to a store: read from text, Markdown, PDF or JSONL files, and split into passages
that carry where they came from and who may see them.

A file is one document whose id is the file's name without its extension; a JSONL file holds one document a
line, each with its own `id` (and `text`, optionally `title` and `groups`). A document's groups are the user
groups that may retrieve it; a document without groups is visible to every caller."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.retrieval.passage import Passage

PASSAGE_WORDS = 100
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".jsonl")


class DocumentError(ValueError):
    """A file that cannot be read as documents; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str
    groups: tuple[str, ...] = ()
    source: str = ""

    def passages(self) -> list[Passage]:
        """The document as passages of about `PASSAGE_WORDS` words, ids `<document id>#<n>`."""
        metadata = {"document_id": self.id, "source": self.source, "groups": list(self.groups)}
        return [Passage(f"{self.id}#{index}", self.title, text, dict(metadata))
                for index, text in enumerate(word_windows(self.text.split()))]


def word_windows(words: Sequence[str], size: int = PASSAGE_WORDS) -> list[str]:
    """Windows of about `size` words; a short tail joins the previous window."""
    chunks = [list(words[start:start + size]) for start in range(0, len(words), size)]
    if len(chunks) > 1 and len(chunks[-1]) < size // 3:
        tail = chunks.pop()
        chunks[-1] = chunks[-1] + tail
    return [" ".join(chunk) for chunk in chunks]


def read_documents(paths: Iterable[str | Path], groups: Sequence[str] = ()) -> list[Document]:
    """The documents in `paths` (files, or directories searched for files of the known kinds), each given
    `groups` unless a JSONL line names its own. Two documents with one id are refused: one would hide the
    other."""
    documents: list[Document] = []
    for path in _files(paths):
        documents += _read(path, tuple(groups))
    seen: dict[str, str] = {}
    for document in documents:
        if document.id in seen:
            raise DocumentError(f"the document id {document.id!r} comes from both {seen[document.id]} and "
                                f"{document.source}: give one of them another name or id")
        seen[document.id] = document.source
    return documents


def _files(paths: Iterable[str | Path]) -> list[Path]:
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(child for child in path.rglob("*") if child.is_file() and child.suffix.lower() in SUFFIXES)
        elif not path.exists():
            raise DocumentError(f"no such file or directory: {path}")
        elif path.suffix.lower() not in SUFFIXES:
            kind = path.suffix or "files without an extension"
            raise DocumentError(f"{path}: documents are {', '.join(SUFFIXES)} files, not {kind}")
        else:
            found.append(path)
    return found


def _read(path: Path, groups: tuple[str, ...]) -> list[Document]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path, groups)
    text = _pdf_text(path) if suffix == ".pdf" else _text(path)
    title, _, body = text.strip().partition("\n")
    if not body.strip():
        title, body = path.stem, title
    if not body.strip():
        raise DocumentError(f"{path} holds no text")
    return [Document(path.stem, title.strip().lstrip("#").strip(), body.strip(), groups, str(path))]


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError(f"{path} is not UTF-8 text: {error}") from error


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, OSError, ValueError) as error:
        raise DocumentError(f"{path} cannot be read as a PDF: {error}") from error


def _read_jsonl(path: Path, groups: tuple[str, ...]) -> list[Document]:
    documents = []
    for number, line in enumerate(_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DocumentError(f"{where} is not JSON: {error}") from error
        if not isinstance(row, dict) or not str(row.get("id", "")).strip() or not str(row.get("text", "")).strip():
            raise DocumentError(f"{where}: each line is an object with an `id` and a `text`")
        own = row.get("groups", list(groups))
        if not isinstance(own, list) or not all(isinstance(group, str) for group in own):
            raise DocumentError(f"{where}: `groups` is a list of group names")
        documents.append(Document(str(row["id"]).strip(), str(row.get("title", "")).strip(), str(row["text"]).strip(),
                                  tuple(own), str(path)))
    return documents


def document_id(passage: Passage) -> str:
    """The document a passage belongs to: its `document_id`, else its id before `#`."""
    return str(passage.metadata.get("document_id") or passage.id.partition("#")[0])


def positions_by_document(passages: Sequence[Passage]) -> dict[str, list[int]]:
    """The positions of each document's passages in `passages`, by document id, in order."""
    positions: dict[str, list[int]] = {}
    for position, passage in enumerate(passages):
        positions.setdefault(document_id(passage), []).append(position)
    return positions


def document_hash(passages: Sequence[Passage]) -> str:
    """A document's content as its passages hold it: equal for the same text split the same way."""
    digest = hashlib.sha256()
    for passage in passages:
        digest.update(json.dumps([passage.title, passage.text], ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()
