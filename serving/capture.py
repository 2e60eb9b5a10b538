"""The code a served program needs besides sigflow itself. The user's own modules (any file outside the
installed packages) travel as MLflow code paths, with the user modules they import; classes and functions
declared in a script's `__main__` or in notebook cells are captured as source, with the imports, constants and
definitions they use, into one generated module. Source, never a pickle: the model rebuilds the program by
running code anyone can read."""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import site
import symtable
import sys
import sysconfig
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CAPTURED_MODULE = "sigflow_captured"
"""The generated module that holds what was captured from `__main__`; references to it load from the model."""
SIGFLOW_PACKAGES = tuple(Path(__file__).resolve().parents[1] / name for name in ("pipelines", "serving", "sigflow"))


class CaptureError(ValueError):
    """Code a served program needs that cannot travel with it; the message names it and says what to do."""


@dataclass(frozen=True)
class ProgramCode:
    code_paths: list[Path]
    """The user's module files and package directories, each copied into the model."""
    captured_source: str | None
    """The source of `CAPTURED_MODULE`, when something was declared in `__main__`."""


def reference(value: Any) -> str:
    """`module:QualName`, as the served model imports `value`; `__main__` names point into the captured module."""
    qualname = getattr(value, "__qualname__", None)
    if not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise CaptureError(f"{value!r} is defined inside a function: declare it at the top level of a module, "
                           "script or notebook cell so the served model can rebuild it")
    module = CAPTURED_MODULE if value.__module__ == "__main__" else value.__module__
    return f"{module}:{qualname}"


def collect_code(values: Iterable[Any]) -> ProgramCode:
    """The code paths and captured source that make every one of `values` (classes, functions) importable by
    `reference` in a fresh process that has only the installed packages."""
    values = list(values)
    roots: set[Path] = set()
    for value in values:
        if value.__module__ != "__main__":
            roots |= user_code_roots(sys.modules[value.__module__])
    captured = None
    main = [value for value in values if value.__module__ == "__main__"]
    if main:
        capture = _MainCapture(sys.modules["__main__"])
        captured = capture.source_for(main)
        for module in capture.imported_modules:
            roots |= user_code_roots(module)
    return ProgramCode(sorted(roots), captured)


def user_code_roots(module: types.ModuleType, seen: set[Path] | None = None) -> set[Path]:
    """The file or top-level package directory of `module` if it is the user's code, and those of the user
    modules it imports, transitively; nothing for the standard library, installed packages and sigflow."""
    seen = set() if seen is None else seen
    root = _code_root(module)
    if root is None or root in seen:
        return set()
    seen.add(root)
    top = module.__name__.partition(".")[0]
    roots = {root}
    for loaded in [found for name, found in list(sys.modules.items()) if name == top or name.startswith(top + ".")]:
        for imported in _imports_of(loaded):
            roots |= user_code_roots(imported, seen)
    return roots


def _installed_locations() -> tuple[Path, ...]:
    paths = sysconfig.get_paths()
    found = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    found |= set(site.getsitepackages()) | {site.getusersitepackages()}
    return tuple(Path(path).resolve() for path in found)


def _code_root(module: types.ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    if not file or module.__name__ == "__main__":
        return None
    path = Path(file).resolve()
    if any(path.is_relative_to(location) for location in (*_installed_locations(), *SIGFLOW_PACKAGES)):
        return None
    top = sys.modules.get(module.__name__.partition(".")[0], module)
    if hasattr(top, "__path__"):
        return Path(top.__file__).resolve().parent if getattr(top, "__file__", None) else Path(next(iter(top.__path__)))
    return Path(top.__file__).resolve()


def _imports_of(module: types.ModuleType) -> list[types.ModuleType]:
    """The loaded modules that `module`'s source imports (by its import statements)."""
    file = getattr(module, "__file__", None)
    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8")) if file and file.endswith(".py") else None
    except (OSError, SyntaxError, UnicodeDecodeError):
        tree = None
    names: list[str] = []
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), module.__package__ or "") \
                if node.level else (node.module or "")
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return [sys.modules[name] for name in names if name in sys.modules]


@dataclass(frozen=True)
class _Statement:
    order: int
    node: ast.stmt
    text: str


class _MainCapture:
    """The top-level statements of a script or of a notebook's executed cells, and the closure of those a
    set of `__main__` classes and functions needs."""

    def __init__(self, main: types.ModuleType):
        self.namespace = vars(main)
        self.statements = _main_statements(main)
        self.binding = {name: statement for statement in self.statements for name in _bound_names(statement.node)}
        self.imported_modules: list[types.ModuleType] = []

    def source_for(self, values: list[Any]) -> str:
        chosen: dict[int, _Statement] = {}
        generated: list[str] = []
        pending = [self._root_name(value) for value in values]
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            statement, extra = self._resolve(name)
            if statement is not None and statement.order not in chosen:
                chosen[statement.order] = statement
                if not isinstance(statement.node, ast.Import | ast.ImportFrom):
                    pending += _free_globals(statement.text)
            generated += extra
        future = ["from __future__ import annotations"] if self._uses_future_annotations() else []
        body = [statement.text for _, statement in sorted(chosen.items())]
        header = '"""Captured by sigflow from the program\'s `__main__` (a script or notebook cells)."""'
        return "\n\n".join([header, *future, *sorted(set(generated)), *body]) + "\n"

    def _root_name(self, value: Any) -> str:
        name = value.__qualname__.partition(".")[0]
        if self.namespace.get(name) is not value and "." not in value.__qualname__:
            raise CaptureError(f"{name} was redefined in __main__ after this program was built: build the "
                               "program again from the current definition")
        return name

    def _resolve(self, name: str) -> tuple[_Statement | None, list[str]]:
        """The statement that defines `name`, or the lines that recreate it, or a CaptureError."""
        if name not in self.namespace:
            if hasattr(builtins, name):
                return None, []
            raise CaptureError(f"the program's code uses {name!r}, which __main__ does not define")
        value = self.namespace[name]
        statement = self.binding.get(name)
        if statement is not None and isinstance(statement.node, ast.Import | ast.ImportFrom):
            self._note_module(value)
            return statement, []
        if statement is not None and (_is_definition(statement.node) or _is_declaration(value)):
            return statement, []
        generated = _import_line(name, value)
        if generated is not None:
            self._note_module(value)
            return None, [generated]
        if _is_literal(value):
            return None, [f"{name} = {value!r}"]
        if isinstance(value, type | types.FunctionType):
            raise CaptureError(f"the source of {name!r} cannot be found in __main__: declare it in a file")
        raise CaptureError(f"the program's code reads the global {name!r} (a {type(value).__name__}), which "
                           "__main__ makes at run time: pass it to the program's constructor instead, so that it "
                           "is packaged")

    def _note_module(self, value: Any) -> None:
        module = value if isinstance(value, types.ModuleType) else sys.modules.get(getattr(value, "__module__", ""))
        if module is not None:
            self.imported_modules.append(module)

    def _uses_future_annotations(self) -> bool:
        return any(isinstance(s.node, ast.ImportFrom) and s.node.module == "__future__" and
                   any(alias.name == "annotations" for alias in s.node.names) for s in self.statements)


def _main_statements(main: types.ModuleType) -> list[_Statement]:
    """Every top-level statement of the notebook's executed cells (in order) or of the script's file."""
    sources = _notebook_cells() or _script_source(main)
    statements: list[_Statement] = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # a cell of IPython syntax the shell did not turn into Python
        lines = source.splitlines()
        for node in tree.body:
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            statements.append(_Statement(len(statements), node, "\n".join(lines[start - 1:node.end_lineno])))
    return statements


def _notebook_cells() -> list[str]:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    cells = shell.user_ns.get("In", []) if shell is not None else []
    return [cell for cell in cells if isinstance(cell, str)]


def _script_source(main: types.ModuleType) -> list[str]:
    file = getattr(main, "__file__", None)
    if not file or not Path(file).is_file():
        raise CaptureError("the program is declared in an interactive session whose source cannot be read: "
                           "declare it in a file, a script or a notebook")
    return [Path(file).read_text(encoding="utf-8")]


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(alias.asname or alias.name).partition(".")[0] for alias in node.names if alias.name != "*"]
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return [target.id for target in targets if isinstance(target, ast.Name)]


def _free_globals(source: str) -> list[str]:
    """The global names a statement reads (its bases, decorators, annotations and bodies included)."""
    names: list[str] = []
    tables = [symtable.symtable(source, "<captured>", "exec")]
    while tables:
        table = tables.pop()
        top = table.get_type() == "module"
        names += [symbol.get_name() for symbol in table.get_symbols()
                  if symbol.is_referenced() and (top or symbol.is_global())]
        tables += table.get_children()
    return names


def _is_definition(node: ast.stmt) -> bool:
    return isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)


def _is_declaration(value: Any) -> bool:
    """A value its defining statement recreates without side effects: a class, a function, a type, a literal."""
    return (isinstance(value, type | types.FunctionType) or typing.get_origin(value) is not None
            or type(value).__module__ == "typing" or _is_literal(value))


def _is_literal(value: Any) -> bool:
    try:
        return ast.literal_eval(repr(value)) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _import_line(name: str, value: Any) -> str | None:
    """An import statement that binds `name` to `value` in a fresh process, if there is one."""
    if isinstance(value, types.ModuleType):
        return f"import {value.__name__}" if value.__name__ == name else f"import {value.__name__} as {name}"
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not module or module == "__main__" or not qualname or "." in qualname:
        return None
    try:
        if getattr(importlib.import_module(module), qualname) is not value:
            return None
    except (ImportError, AttributeError):
        return None
    return f"from {module} import {qualname}" + ("" if qualname == name else f" as {name}")
