"""`mlflow models serve` with the settings an LLM program needs: offline (`--env-manager local`), its worker
processes sharing the embedded model's cores, a timeout fit for LM calls, the tracking URI passed on, and the
traces of a local store written by a collector process (`trace_collector.py`)."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from serving.trace_collector import (
    COLLECTOR_ENVIRONMENT,
    collector_command,
    exporter_environment,
    wants_collector,
)
from serving.tracking import mlflow_module, portable_uri

REQUEST_TIMEOUT_SECONDS = 600
STARTUP_SECONDS = 180


class ServerError(RuntimeError):
    """The server process ended or did not become healthy; the message carries its log's end."""


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path
    workdir: Path
    """The empty working directory the server runs in, removed when it stops."""
    collector: Server | None = None
    """The trace collector this server sends to, stopped after it (so its last batch of traces arrives)."""

    @property
    def invocations(self) -> str:
        return f"{self.url}/invocations"

    def stop(self) -> None:
        """End the server and then its collector, removing the working directory."""
        stop_session(self.process)
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.collector is not None:
            self.collector.stop()


def stop_session(process: subprocess.Popen, grace_seconds: float = 30) -> None:
    """Terminate every process of the session `process` leads (`mlflow models serve` runs uvicorn as a
    child) and wait until all have ended, so that what they write on the way out (the last batch of traces)
    is written; whatever still runs after `grace_seconds` is killed."""
    _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while _group_alive(process) and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def _group_alive(leader: subprocess.Popen) -> bool:
    leader.poll()  # reaps the leader once it has ended
    try:
        os.killpg(leader.pid, 0)
    except ProcessLookupError:
        return False
    return True


def serve_command(model_uri: str, host: str, port: int, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
            "--host", host, "--port", str(port), "--timeout", str(REQUEST_TIMEOUT_SECONDS),
            "--workers", str(workers)]


def ui_command(tracking_uri: str, host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", tracking_uri, "--host", host,
            "--port", str(port)]


def serve_environment(tracking_uri: str, workers: int = 1) -> dict[str, str]:
    """This process's environment with what an MLflow server needs: the tracking URI (aliases resolve
    through it, and served requests log their traces there), telemetry off, this interpreter's scripts
    first on PATH (MLflow starts `uvicorn` by name, which an unactivated virtual environment would not
    find), and litellm's bundled cost map: offline, litellm retries the download on a thread whose log call
    deadlocks with MLflow's import hooks, and `mlflow ui` never answers. Each of `workers` server processes
    loads the model with its own embedded-model pool, so the cores are shared among them unless
    `SIGFLOW_LOCAL_WORKERS` says otherwise. The UI's background job runner stays off: on a SQL store it
    starts consumer processes that outlive a stopped server."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    share = str(max(1, len(os.sched_getaffinity(0)) // workers))
    return {"SIGFLOW_LOCAL_WORKERS": share, **os.environ, "MLFLOW_TRACKING_URI": tracking_uri,
            "MLFLOW_DISABLE_TELEMETRY": "true", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "PATH": path}


def isolated_environment(tracking_uri: str, workers: int = 1) -> dict[str, str]:
    """`serve_environment` without `PYTHONPATH` and the other `PYTHON*` settings, and with the tracking URI
    made absolute: a process in another directory that knows only the installed packages and the model."""
    environment = serve_environment(portable_uri(tracking_uri), workers)
    return {key: value for key, value in environment.items() if not key.startswith("PYTHON")}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def start_server(model_uri: str, *, tracking_uri: str | None = None, host: str = "127.0.0.1",
                 port: int | None = None, workers: int = 1) -> Server:
    """A server for `model_uri` (resolved through `tracking_uri`, by default the one MLflow uses here),
    healthy when returned; `stop()` it when done. It runs in an empty working directory without
    `PYTHONPATH`, so a model that needs the caller's files fails here as it would on another machine."""
    tracking_uri = portable_uri(tracking_uri or mlflow_module().get_tracking_uri())
    environment = isolated_environment(tracking_uri, workers)
    collector = _launched_collector(tracking_uri, host) if wants_collector(tracking_uri) else None
    if collector is not None:
        environment |= exporter_environment(collector.url)
    port = port or free_port(host)
    server = _launched(serve_command(model_uri, host, port, workers), environment, f"http://{host}:{port}")
    server = dataclasses.replace(server, collector=collector)
    try:  # the two start side by side: the model's first trace comes after its first request
        if collector is not None:
            _wait_healthy(collector, "/health")
        _wait_healthy(server, "/ping")
    except BaseException:
        server.stop()
        raise
    return server


def start_collector(tracking_uri: str, host: str = "127.0.0.1") -> Server:
    """An `mlflow server` over `tracking_uri` that writes the traces served models send it."""
    collector = _launched_collector(tracking_uri, host)
    try:
        _wait_healthy(collector, "/health")
    except BaseException:
        collector.stop()
        raise
    return collector


def _launched_collector(tracking_uri: str, host: str) -> Server:
    port = free_port(host)
    return _launched(collector_command(portable_uri(tracking_uri), host, port),
                     isolated_environment(tracking_uri) | COLLECTOR_ENVIRONMENT, f"http://{host}:{port}")


def _launched(command: list[str], environment: dict[str, str], url: str) -> Server:
    directory = Path(tempfile.mkdtemp(prefix="sigflow-serve-"))  # the log stays for reading after a failure
    log_path, workdir = directory / "server.log", directory / "work"
    workdir.mkdir()
    with log_path.open("wb") as log:  # a session of its own: a Ctrl-C reaches the caller, which stops it in order
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=workdir,
                                   start_new_session=True)
    return Server(url, process, log_path, workdir)


@contextmanager
def running_server(model_uri: str, *, tracking_uri: str | None = None, host: str = "127.0.0.1",
                   port: int | None = None, workers: int = 1) -> Iterator[Server]:
    """`start_server` for a block of code: stopped on exit."""
    server = start_server(model_uri, tracking_uri=tracking_uri, host=host, port=port, workers=workers)
    try:
        yield server
    finally:
        server.stop()


def _wait_healthy(server: Server, path: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(f"the server exited with status {server.process.returncode}:\n{_tail(server)}")
        try:
            with urllib.request.urlopen(f"{server.url}{path}", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise ServerError(f"the server did not answer {path} within {STARTUP_SECONDS} s:\n{_tail(server)}")


def _tail(server: Server, lines: int = 30) -> str:
    return "\n".join(server.log_path.read_text(errors="replace").splitlines()[-lines:])
