"""Which of the modules a program uses are the user's own code, copied into the model (a file, or a whole
top-level package), and which come from installed distributions, pinned as the model's requirements. The
standard library and sigflow's own packages (which travel anyway) are neither."""

from __future__ import annotations

import ast
import importlib.util
import site
import sys
import sysconfig
import types
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

SIGFLOW_PACKAGES = tuple(Path(__file__).resolve().parents[1] / name for name in ("pipelines", "serving", "sigflow"))


class CodeWalkError(ValueError):
    """A user module whose imports cannot be followed."""


@dataclass
class CodeWalk:
    """The user modules reached from the modules visited, through their import statements, transitively."""

    roots: set[Path] = field(default_factory=set)
    installed: set[str] = field(default_factory=set)
    """Top-level names of installed modules the user's code imports."""

    def visit(self, module: types.ModuleType) -> None:
        file = getattr(module, "__file__", None)
        top = module.__name__.partition(".")[0]
        if not file or module.__name__ == "__main__":
            return
        path = Path(file).resolve()
        if any(path.is_relative_to(package) for package in SIGFLOW_PACKAGES):
            return
        if any(path.is_relative_to(location) for location in _installed_locations()):
            self.installed.add(top)
            return
        root = _root_of(sys.modules.get(top, module))
        if root in self.roots:
            return
        self.roots.add(root)
        for name, loaded in list(sys.modules.items()):
            if name == top or name.startswith(top + "."):
                for imported in _imports_of(loaded):
                    self.visit(imported)

    def requirements(self) -> list[str]:
        """`distribution==version` for every installed distribution the user's code imports."""
        if not self.installed:
            return []  # the map of every installed package takes seconds to build
        owners = metadata.packages_distributions()
        names = {dist for top in self.installed for dist in owners.get(top, ()) if dist.lower() != "sigflow"}
        return sorted(f"{name}=={metadata.version(name)}" for name in names)


def _installed_locations() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    found = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    found |= set(site.getsitepackages()) | {site.getusersitepackages()}
    return tuple(Path(path).resolve() for path in found)


def _root_of(top: types.ModuleType) -> Path:
    """A package's directory, or a single module's file."""
    if hasattr(top, "__path__"):
        return Path(top.__file__).resolve().parent if getattr(top, "__file__", None) else Path(next(iter(top.__path__)))
    return Path(top.__file__).resolve()


def _imports_of(module: types.ModuleType) -> list[types.ModuleType]:
    """The loaded modules that `module`'s source imports (by its import statements, wherever they are)."""
    file = getattr(module, "__file__", None)
    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8")) if file and file.endswith(".py") else None
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    names: list[str] = []
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module)
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return [sys.modules[name] for name in names if name in sys.modules]


def _absolute(node: ast.ImportFrom, module: types.ModuleType) -> str:
    if not node.level:
        return node.module or ""
    try:
        return importlib.util.resolve_name("." * node.level + (node.module or ""), module.__package__ or "")
    except ImportError as error:
        raise CodeWalkError(f"{module.__name__} has a relative import that cannot be resolved: {error}") from error


def statement_modules(node: ast.Import | ast.ImportFrom) -> list[types.ModuleType]:
    """The loaded modules an import statement of a script or notebook names (relative imports have none)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        names = [node.module or ""] if not node.level else []
    return [sys.modules[name] for name in names if name in sys.modules]
