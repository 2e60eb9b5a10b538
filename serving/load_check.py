"""Publishing proves a logged model before the registry sees it: the model is loaded in a fresh Python
process that knows only the installed packages (no `PYTHONPATH` or other `PYTHON*` setting, nothing
prepended to `sys.path`, a new empty working directory) and must answer its input example. A model that
cannot is not registered."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from serving.endpoint import isolated_environment

CHECK_SECONDS = 600
TAG = "load_check"
"""The registry tag a version's check leaves: `passed`, or absent when the version was registered otherwise."""
PROBE = """
import json, sys
import mlflow, pandas
model = mlflow.pyfunc.load_model(sys.argv[1])
print("loaded", flush=True)
if sys.argv[3] == "ask":
    request = json.loads(sys.argv[2])
    model.predict(pandas.DataFrame(request) if isinstance(request, list) else request)
"""


class LoadCheckFailed(ValueError):
    """The logged model did not load, or did not answer, in a fresh process; the message says why."""


@dataclass(frozen=True)
class LoadCheck:
    answered: bool
    """False when the model was only loaded: its LM answers only inside the publishing process (a scripted LM),
    or the publisher chose not to ask it (a provider that this machine cannot reach)."""
    seconds: float

    def tags(self) -> dict[str, str]:
        return {TAG: "passed", f"{TAG}_answered": str(self.answered).lower(),
                f"{TAG}_seconds": f"{self.seconds:.1f}"}


def check_model(model_uri: str, *, tracking_uri: str, example: list[dict[str, str]] | dict[str, Any],
                ask: bool) -> LoadCheck:
    """Load `model_uri` in a fresh process and, if `ask`, have it answer `example` (rows for the DataFrame
    form, a request for the chat form); a LoadCheckFailed names what the model lacks (a module, a file, a
    store) or how it failed."""
    environment = {**isolated_environment(tracking_uri), "SIGFLOW_LOCAL_WORKERS": "1"}  # one question to answer
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sigflow-load-check-") as directory:
        try:
            finished = subprocess.run([sys.executable, "-E", "-P", "-c", PROBE, model_uri, json.dumps(example),
                                       "ask" if ask else "load"], cwd=directory, env=environment,
                                      capture_output=True, text=True, timeout=CHECK_SECONDS)
        except subprocess.TimeoutExpired as error:
            raise LoadCheckFailed(f"{model_uri} did not load and answer within {CHECK_SECONDS} s in a fresh "
                                  "process") from error
    if finished.returncode != 0:
        failed = "loads but does not answer its input example" if "loaded" in finished.stdout.split() \
            else "does not load"
        raise LoadCheckFailed(f"{model_uri} {failed} in a fresh process, so it was not registered: "
                              f"{_reason(finished.stderr)}")
    return LoadCheck(ask, time.perf_counter() - started)


def _reason(stderr: str) -> str:
    """The traceback's last line (`ModuleNotFoundError: No module named 'x'`), or the output's end."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if not line.startswith(" ") and ("Error" in line or "Exception" in line)]
    return (errors or lines or ["the process failed without a message"])[-1].strip()
