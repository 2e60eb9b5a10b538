"""Real services for the tests and benchmarks that need them, each started in a temporary directory on a
loopback port and stopped after: a PostgreSQL cluster and an MLflow tracking server backed by it."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy

from serving.endpoint import serve_environment

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
POSTGRES_USER = "sigflow"
SYSTEM_USER = "postgres"  # PostgreSQL refuses to run as root; Debian's package creates this user
SERVER_START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


needs_postgres = pytest.mark.skipif(not (POSTGRES_BIN / "initdb").exists(),
                                    reason="PostgreSQL is installed by `make setup` (Debian's postgresql-15)")


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A new PostgreSQL cluster on a loopback port; yields a URL of its `sigflow` database."""
    directory = Path(tempfile.mkdtemp(prefix="sigflow-postgres-", dir="/tmp"))
    data, port = directory / "data", free_port()
    as_owner = _as_system_user(directory)
    try:
        subprocess.run([*as_owner, str(POSTGRES_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U",
                        POSTGRES_USER, "--no-sync"], check=True, capture_output=True)
        subprocess.run([*as_owner, str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-l", str(directory / "log"),
                        "-w", "-o", f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "start"], check=True, capture_output=True)
        subprocess.run([*as_owner, str(POSTGRES_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                        POSTGRES_USER, "sigflow"], check=True, capture_output=True)
        yield f"postgresql://{POSTGRES_USER}@127.0.0.1:{port}/sigflow"
    finally:
        subprocess.run([*as_owner, str(POSTGRES_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """A new database in the cluster of `url`; its URL."""
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    return sqlalchemy.make_url(url).set(database=name).render_as_string(hide_password=False)


def _as_system_user(directory: Path) -> list[str]:
    """The command prefix that runs PostgreSQL's tools as a user it accepts, owning `directory`."""
    if os.geteuid() != 0:
        return []
    shutil.chown(directory, SYSTEM_USER)
    return ["/usr/sbin/runuser", "-u", SYSTEM_USER, "--"]


@contextlib.contextmanager
def mlflow_server(backend_store_uri: str, artifacts: Path) -> Iterator[str]:
    """`mlflow server` over `backend_store_uri`, serving artifacts from `artifacts`; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_store_uri,
               "--artifacts-destination", str(artifacts), "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1"]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                  env=serve_environment(backend_store_uri))
        try:
            _wait_for(f"{url}/health", server, log)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, 15)
            server.wait(timeout=30)


def _wait_for(url: str, server: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"mlflow server exited with {server.returncode}:\n{log.read().decode()[-3000:]}")
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(url, timeout=2).ok:
                return
        time.sleep(0.5)
    raise TimeoutError(f"mlflow server did not answer {url} within {SERVER_START_SECONDS} s")
