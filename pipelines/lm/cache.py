"""The persistent LM response cache: SQLite in WAL mode, JSON values, shared by threads and processes.

A cache must never break a call: an unreadable entry is a logged miss, a failed write is logged and
dropped, and a file that is not a usable database is set aside and replaced by a fresh one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential

from pipelines.lm.params import output_params

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    value TEXT NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """sha256 of canonical JSON over the model, the messages and every output-changing parameter."""
    payload = {"model": model, "messages": messages, "params": output_params(params)}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _is_busy(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and ("locked" in str(error) or "busy" in str(error))


_retry_when_busy = retry(
    retry=retry_if_exception(_is_busy),
    stop=stop_after_attempt(8),
    wait=wait_random_exponential(multiplier=0.05, max=2.0),
    reraise=True,
)


class CacheFileUnusable(Exception):
    """The file is not a sigflow cache this version can read."""


class Cache:
    """A key-value store of JSON-serializable completions in one SQLite file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._recovery_lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored value, or None on a miss or any problem reading it."""
        try:
            row = self._run(lambda db: db.execute("SELECT value FROM completions WHERE key = ?", (key,)))
            found = row.fetchone()
            return None if found is None else json.loads(found[0])
        except (sqlite3.Error, CacheFileUnusable, OSError, ValueError) as error:
            log.warning("LM cache read failed, treating it as a miss: %s", error)
            return None

    def put(self, key: str, model: str, value: dict[str, Any]) -> None:
        """Store `value` under `key`; a failure is logged, never raised."""
        try:
            encoded = json.dumps(value, ensure_ascii=False)
            self._run(lambda db: db.execute(
                "INSERT OR REPLACE INTO completions (key, model, value, created) VALUES (?, ?, ?, ?)",
                (key, model, encoded, time.time()),
            ))
        except (sqlite3.Error, CacheFileUnusable, OSError, TypeError, ValueError) as error:
            log.warning("LM cache write failed, the entry is not cached: %s", error)

    def __len__(self) -> int:
        return self._run(lambda db: db.execute("SELECT COUNT(*) FROM completions")).fetchone()[0]

    def _run(self, statement):
        """Run `statement(db)`, setting the file aside once if it turns out corrupt. Operational errors
        (locked, unopenable, read-only, disk full) say nothing about the file's contents: they are raised."""
        try:
            return self._attempt(statement)
        except (sqlite3.DatabaseError, CacheFileUnusable) as error:
            if isinstance(error, sqlite3.OperationalError):
                raise
            self._set_aside(error)
            return self._attempt(statement)

    def _attempt(self, statement):
        """One try, and retries with backoff only once SQLite's own busy wait has given up (rare)."""
        db = self._connection()
        try:
            return statement(db)
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            return _retry_when_busy(statement)(db)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened anew after a fork (SQLite connections do not survive one)."""
        state = self._local
        if getattr(state, "pid", None) != os.getpid() or getattr(state, "db", None) is None:
            state.db, state.inode = self._open()
            state.pid = os.getpid()
        return state.db

    def _open(self) -> tuple[sqlite3.Connection, int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            _retry_when_busy(lambda: db.execute("PRAGMA journal_mode = WAL"))()
            db.execute("PRAGMA synchronous = NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise CacheFileUnusable(f"schema version {version}, this sigflow reads {SCHEMA_VERSION}")
            _retry_when_busy(lambda: db.execute(_SCHEMA))()
            if version == 0:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            db.close()
            raise
        return db, os.stat(self.path).st_ino

    def _set_aside(self, error: BaseException) -> None:
        """Rename an unusable cache file (and its WAL files) so a fresh one takes its place."""
        with self._recovery_lock:
            opened_inode = getattr(self._local, "inode", None)
            db = getattr(self._local, "db", None)
            if db is not None:
                db.close()
            self._local.db = None
            try:
                still_same_file = opened_inode is None or os.stat(self.path).st_ino == opened_inode
            except FileNotFoundError:
                return
            if not still_same_file:
                return  # another thread or process already replaced it
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}-{os.getpid()}")
            log.error("LM cache %s is unusable (%s); moved it to %s and started a fresh one",
                      self.path, error, aside)
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{self.path}{suffix}")
                try:
                    os.replace(source, Path(f"{aside}{suffix}"))
                except FileNotFoundError:
                    continue


_caches: dict[str, Cache] = {}
_caches_lock = threading.Lock()


def cache_at(path: str | Path) -> Cache:
    """The one `Cache` object of this process for `path` (looked up on every LM call, so kept cheap)."""
    found = _caches.get(str(path))
    if found is not None:
        return found
    with _caches_lock:
        return _caches.setdefault(str(path), Cache(Path(path).resolve()))
