"""The Prompts page of the MLflow UI, rendered by a real headless Chromium, lists the instructions an
optimization registered, each with its latest version."""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from pipelines import Predict
from serving.endpoint import free_port
from serving.genai import register_instructions

SIGFLOW = str(Path(sys.executable).with_name("sigflow"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_prompts_page_lists_the_registered_instructions(tmp_path):
    assert CHROMIUM is not None, "no Chromium: `make setup` installs Debian's package"
    router, writer = Predict("ticket -> team"), Predict("ticket -> summary")
    router.signature = router.signature.with_instructions("Route the support ticket to the team that owns it.")
    writer.signature = writer.signature.with_instructions("Summarize the ticket in one line.")
    register_instructions(router, "ticket-desk", {"run_id": "r1", "score": "0.8"})
    register_instructions(writer, "ticket-desk-summary", {"run_id": "r1", "score": "0.5"})
    port = free_port()
    ui = subprocess.Popen([SIGFLOW, "ui", "--port", str(port)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                          start_new_session=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/health")
        page = _rendered(f"http://127.0.0.1:{port}/#/prompts")
    finally:
        ui.terminate()
        ui.wait(timeout=30)
    assert "ticket-desk.self" in page and "ticket-desk-summary.self" in page
    assert "Prompts" in page


def _wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def _rendered(url: str) -> str:
    """The page's DOM once its scripts have run and their requests have answered."""
    with tempfile.TemporaryDirectory() as profile:
        finished = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--virtual-time-budget=20000", "--dump-dom", url],
            capture_output=True, text=True, timeout=180)
    assert finished.returncode == 0, finished.stderr[-2000:]
    return finished.stdout
