"""The user's own code named on the command line, as uvicorn names apps: `path/to/file.py:Name` or
`package.module:Name`. A file is imported under its own name with its directory on `sys.path`, as Python
runs a script, so that the modules beside it import too."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from pipelines.modules import Module


def import_object(reference: str, what: str, kind: str = "Class") -> Any:
    """The object `reference` names; a ValueError (one line) if the file, module or name is not there."""
    location, separator, name = reference.rpartition(":")
    if not separator or not location or not name.isidentifier():
        raise ValueError(f"{what} {reference!r} is not path/to/file.py:{kind} or package.module:{kind}")
    module = _import_file(Path(location)) if location.endswith(".py") or "/" in location else _import_module(location)
    if not hasattr(module, name):
        raise ValueError(f"{location} defines no {name!r}")
    return getattr(module, name)


def program_class(target: str) -> type[Module]:
    found = import_object(target, "TARGET")
    if not (isinstance(found, type) and issubclass(found, Module)):
        raise ValueError(f"{target} is a {type(found).__name__}, not a sigflow Module class")
    return found


def build_program(cls: type[Module], target: str) -> Module:
    """An instance of the user's class built without arguments, as the command line can only build it."""
    try:
        return cls()
    except TypeError as error:
        raise ValueError(f"{target} cannot be built without arguments ({error}): give its parameters defaults, "
                         "or build it in Python and call sigflow's functions there") from error


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    resolved = path.resolve()
    name = resolved.stem
    loaded = sys.modules.get(name)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == resolved:
        return loaded
    if loaded is not None:
        raise ValueError(f"{path} would be imported as {name!r}, which names another module already "
                         f"({getattr(loaded, '__file__', 'built in')}): rename the file")
    spec = importlib.util.spec_from_file_location(name, resolved)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(resolved.parent))
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise ValueError(f"cannot import {path}: {type(error).__name__}: {error}") from error
    return module


def _import_module(name: str) -> Any:
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # as `python -m` and uvicorn find a package in the working directory
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ValueError(f"cannot import {name}: {error}") from error
    except Exception as error:
        raise ValueError(f"cannot import {name}: {type(error).__name__}: {error}") from error
