"""The `agent` program's tools over the BBC News articles: a search of the vector store, and SQL over a
table of the articles' metadata. The table is built from the store's own passages (each keeps its article
id, category and headline; an article's words are its passages' words), so a published agent carries no
data besides its store."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence

from pipelines.retrieval.passage import Passage

TABLE_COLUMNS = "id TEXT PRIMARY KEY, category TEXT, headline TEXT, words INTEGER"
MAX_ROWS = 20
QUERY_SECONDS = 2.0
_PROGRESS_STEPS = 10_000  # SQLite virtual-machine steps between two checks of the time limit


class ArticleTable:
    """`articles(id, category, headline, words)` in an in-memory SQLite database, read-only. A query answers
    at most `MAX_ROWS` rows and is stopped after `QUERY_SECONDS`: an agent's cross join cannot hang a
    request."""

    def __init__(self, passages: Sequence[Passage]):
        self._connection = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._connection.execute(f"CREATE TABLE articles ({TABLE_COLUMNS})")
        self._connection.executemany("INSERT INTO articles VALUES (?, ?, ?, ?)", _rows(passages))
        self._connection.commit()
        self._connection.set_authorizer(_read_only)
        self._connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)

    def query(self, sql: str) -> str:
        """The result as lines of `|`-separated values under a header; SQLite's own message on an error."""
        with self._lock:
            deadline = time.monotonic() + QUERY_SECONDS
            self._connection.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_STEPS)
            try:
                cursor = self._connection.execute(sql)
                rows = cursor.fetchmany(MAX_ROWS + 1)
            except sqlite3.Error as error:
                reason = _REASONS.get(str(error), str(error))
                raise ValueError(f"the query failed: {reason}") from None
            finally:
                self._connection.set_progress_handler(None, 0)
        if cursor.description is None:
            return "(no result)"
        header = " | ".join(column[0] for column in cursor.description)
        shown = [" | ".join("NULL" if value is None else str(value) for value in row) for row in rows[:MAX_ROWS]]
        more = [f"(only the first {MAX_ROWS} rows are shown)"] if len(rows) > MAX_ROWS else []
        return "\n".join([header, *shown, *more]) if shown else f"{header}\n(no rows)"

    def __deepcopy__(self, memo: dict) -> ArticleTable:
        return self  # read-only: a program's copies share one table

    def __len__(self) -> int:
        with self._lock:
            return self._connection.execute("SELECT count(*) FROM articles").fetchone()[0]


_REASONS = {"interrupted": "it ran longer than the time limit",
            "not authorized": "the table is read-only: one SELECT, no pragma, write or attached database"}
_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


def _read_only(action: int, *_: object) -> int:
    """SQLite's authorizer: reading and computing only; no write, pragma or attached database, whatever SQL
    the LM (or a user steering it) writes."""
    return sqlite3.SQLITE_OK if action in _ALLOWED else sqlite3.SQLITE_DENY


def _rows(passages: Sequence[Passage]) -> list[tuple[str, str, str, int]]:
    articles: dict[str, list] = {}
    for passage in passages:
        missing = [key for key in ("article_id", "category") if key not in passage.metadata]
        if missing:
            raise ValueError(f"passage {passage.id!r} has no {' or '.join(missing)} in its metadata: the articles "
                             "table is built from BBC News passages (pipelines.datasets.bbc.passages)")
        row = articles.setdefault(passage.metadata["article_id"],
                                  [passage.metadata["article_id"], passage.metadata["category"], passage.title, 0])
        row[3] += len(passage.text.split())
    return [tuple(row) for row in articles.values()]


def render_hits(passage_ids: Sequence[str], titles: Sequence[str], texts: Sequence[str]) -> str:
    """Search results as the agent reads them: each passage with its article's id and headline."""
    if not texts:
        return "(nothing found)"
    return "\n".join(f"[{index}] article {passage_id.split('#')[0]}, \"{title}\": {text}"
                     for index, (passage_id, title, text) in enumerate(zip(passage_ids, titles, texts, strict=True),
                                                                      start=1))
