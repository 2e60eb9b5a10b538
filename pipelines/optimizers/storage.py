"""Where a search's Optuna study is kept, and how the workers sharing it take turns.

One process keeps its study in SQLite. Many workers, on one machine or several, share a study in PostgreSQL
(with Optuna's heartbeat: the trial of a worker that stopped answering is failed and queued again) or in an
Optuna journal file on a file system they all mount. A worker claims its next trial while it holds the
study's turn lock, so each trial is handed to one worker and no example of a combination to two."""

from __future__ import annotations

import functools
import hashlib
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import optuna
import sqlalchemy
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock, JournalStorage

STUDY_NAME = "sigflow"
SQLITE_LOCK_SECONDS = 60
HEARTBEAT_SECONDS = 60
STALE_AFTER_BEATS = 3  # a trial whose worker missed this many heartbeats is failed
MAX_RETRIES = 2  # a failed-for-silence trial is queued again at most this often
JOURNAL_LOCK_GRACE_SECONDS = 30  # a turn lock left by a killed worker is broken after this long
SCHEMA_LOCK_NAME = "optuna schema"  # not a study name: studies are named sigflow or sigflow-<run id>


class TurnLock(Protocol):
    def acquire(self) -> object: ...

    def release(self) -> None: ...


@dataclass(frozen=True)
class StudyStore:
    """A study's storage: `url` is an SQLAlchemy URL (`postgresql://...` for many workers, `sqlite:///...` for
    one process) or the path of an Optuna journal file. `name` tells the studies of one storage apart."""

    url: str
    name: str = STUDY_NAME
    heartbeat_seconds: int = HEARTBEAT_SECONDS

    @classmethod
    def local(cls, path: str | Path) -> StudyStore:
        """A study in an SQLite file of its own, for one process."""
        return cls(f"sqlite:///{Path(path).resolve()}")

    @property
    def is_journal(self) -> bool:
        return "://" not in self.url

    @property
    def shared(self) -> bool:
        """Whether other workers may use the study while this one does."""
        return not self.url.startswith("sqlite:")

    def describe(self) -> str:
        """The storage without credentials, to name it in messages and logs."""
        if self.is_journal:
            return self.url
        return sqlalchemy.make_url(self.url).render_as_string(hide_password=True)

    def exists(self) -> bool:
        if self.url.startswith("sqlite:///") and not Path(self.url.removeprefix("sqlite:///")).exists():
            return False
        if self.is_journal and not Path(self.url).exists():
            return False
        return self.name in [summary.study_name for summary in optuna.get_all_study_summaries(self.storage())]

    def storage(self) -> optuna.storages.BaseStorage:
        if self.is_journal:
            Path(self.url).parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(self.url, lock_obj=JournalFileOpenLock(self.url)))
        if not self.shared:
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            # Writers from other processes wait for the lock instead of failing with "database is locked".
            return optuna.storages.RDBStorage(self.url,
                                              engine_kwargs={"connect_args": {"timeout": SQLITE_LOCK_SECONDS}})
        self._check_dialect()
        return _server_storage(self.url, self.heartbeat_seconds)

    def turn_lock(self) -> TurnLock:
        """The lock a worker holds while it claims a trial: a PostgreSQL advisory lock (released by the server
        when a worker's connection drops), a lock file beside a journal, or a plain lock for one process."""
        if self.is_journal:
            return JournalFileOpenLock(f"{self.url}.turn", grace_period=JOURNAL_LOCK_GRACE_SECONDS)
        if not self.shared:
            return threading.Lock()
        self._check_dialect()
        return AdvisoryLock(self.url, self.name)

    def _check_dialect(self) -> None:
        backend = sqlalchemy.make_url(self.url).get_backend_name()
        if backend != "postgresql":
            raise ValueError(f"a shared study needs PostgreSQL (postgresql://...) or a journal file path, not "
                             f"{backend}: {self.describe()}")


@functools.cache
def _server_storage(url: str, heartbeat_seconds: int) -> optuna.storages.BaseStorage:
    """One storage per process for each database: each keeps a pool of connections, and one per call would
    soon use up the server's. Workers started together on an empty database would each create Optuna's tables
    and all but one fail (optuna#1092), so they take turns at it."""
    schema_lock = AdvisoryLock(url, SCHEMA_LOCK_NAME)
    schema_lock.acquire()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # the heartbeat arguments
            return optuna.storages.RDBStorage(
                url, heartbeat_interval=heartbeat_seconds, grace_period=heartbeat_seconds * STALE_AFTER_BEATS,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRIES))
    finally:
        schema_lock.release()


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock keyed by the study's name, on a connection of its own."""

    def __init__(self, url: str, name: str):
        self.engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self.connection: sqlalchemy.Connection | None = None

    def acquire(self) -> bool:
        self.connection = self.engine.connect()
        self.connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": self.key})
        return True

    def release(self) -> None:
        if self.connection is None:
            raise RuntimeError("the advisory lock is not held")
        connection, self.connection = self.connection, None
        try:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        finally:
            connection.close()
