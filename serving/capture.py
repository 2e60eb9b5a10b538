"""The code a served program needs besides sigflow itself. The user's own modules travel as MLflow code
paths (`serving.user_code`); classes and functions declared in a script's `__main__` or in notebook cells are
captured as source, with the imports, constants and definitions they use, into one generated module named
after its content. Source, never a pickle: the model rebuilds the program by running code anyone can read."""

from __future__ import annotations

import ast
import hashlib
import importlib
import logging
import re
import symtable
import sys
import textwrap
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving.user_code import CodeWalk, CodeWalkError, statement_modules

CAPTURED_PREFIX = "sigflow_captured"


class CaptureError(ValueError):
    """Code a served program needs that cannot travel with it; the message names it and says what to do."""


@dataclass(frozen=True)
class ProgramCode:
    code_paths: list[Path]
    """The user's module files and package directories, each copied into the model."""
    requirements: list[str]
    """Pinned installed distributions the user's code imports."""
    captured_source: str | None = None
    """The source of the module captured from `__main__`, if anything was declared there."""
    captured_module: str | None = None


def reference(value: Any, captured_module: str = CAPTURED_PREFIX) -> str:
    """`module:QualName`, as the served model imports `value`; `__main__` names point into the captured module."""
    qualname = getattr(value, "__qualname__", None)
    if not qualname or "<locals>" in qualname or "<lambda>" in qualname:
        raise CaptureError(f"{value!r} is defined inside a function: declare it at the top level of a module, "
                           "script or notebook cell so the served model can rebuild it")
    module = captured_module if value.__module__ == "__main__" else value.__module__
    return f"{module}:{qualname}"


def collect_code(values: Iterable[Any]) -> ProgramCode:
    """The code paths, requirements and captured source that make every one of `values` (classes,
    functions) importable by `reference` in a fresh process that has only the installed packages."""
    values = list(values)
    walk = CodeWalk()
    try:
        for value in values:
            if value.__module__ != "__main__" and value.__module__ in sys.modules:
                walk.visit(sys.modules[value.__module__])
        main = [value for value in values if value.__module__ == "__main__"]
        if not main:
            return ProgramCode(sorted(walk.roots), walk.requirements())
        capture = _MainCapture(sys.modules["__main__"])
        source = capture.source_for(main)
        for module in capture.imported_modules:
            walk.visit(module)
    except CodeWalkError as error:
        raise CaptureError(str(error)) from error
    name = f"{CAPTURED_PREFIX}_{hashlib.sha256(source.encode()).hexdigest()[:12]}"
    return ProgramCode(sorted(walk.roots), walk.requirements(), source, name)


@dataclass(frozen=True)
class _Statement:
    order: int
    node: ast.stmt
    text: str


class _MainCapture:
    """The statements of a script or of a notebook's executed cells, and the closure of those a set of
    `__main__` classes and functions needs."""

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
            statement, line = self._resolve(name)
            if statement is not None and statement.order not in chosen:
                chosen[statement.order] = statement
                if not isinstance(statement.node, ast.Import | ast.ImportFrom):
                    pending += _free_globals(statement.text)
            generated += [line] if line else []
        future = ["from __future__ import annotations"] if self._uses_future_annotations() else []
        body = [statement.text for _, statement in sorted(chosen.items())]
        header = '"""Captured by sigflow from the program\'s `__main__` (a script or notebook cells)."""'
        return "\n\n\n".join(["\n\n".join([header, *future, *sorted(set(generated))]), *body]) + "\n"

    def _root_name(self, value: Any) -> str:
        name = value.__qualname__.partition(".")[0]
        if self.namespace.get(name) is not value and "." not in value.__qualname__:
            raise CaptureError(f"{name} was redefined in __main__ after this program was built: build the "
                               "program again from the current definition")
        return name

    def _resolve(self, name: str) -> tuple[_Statement | None, str | None]:
        """The statement that defines `name`, or the line that recreates it; nothing for a name __main__ does
        not hold (a builtin, a module attribute, a name only an annotation uses); else a CaptureError."""
        if name not in self.namespace or (name.startswith("__") and name.endswith("__")):
            return None, None
        value = self.namespace[name]
        statement = self.binding.get(name)
        if statement is not None and isinstance(statement.node, ast.Import | ast.ImportFrom):
            self.imported_modules += statement_modules(statement.node)
            return statement, None
        if _is_literal(value):
            return None, f"{name} = {value!r}"  # the value, not the statement that computed it
        if statement is not None and (_is_definition(statement.node) or _is_declaration(value)):
            return statement, None
        line = _import_line(name, value)
        if line is not None:
            module = value if isinstance(value, types.ModuleType) else sys.modules.get(value.__module__)
            self.imported_modules += [module] if module else []
            return None, line
        if isinstance(value, type | types.FunctionType):
            raise CaptureError(f"the source of {name!r} cannot be found in __main__: declare it at the top level "
                               "of the script or cell, or in a file")
        raise CaptureError(f"the program's code reads the global {name!r} (a {type(value).__name__}), which "
                           "__main__ makes at run time: pass it to the program's constructor instead (JSON values, "
                           "modules, vector stores, LMs, classes and functions travel that way)")

    def _uses_future_annotations(self) -> bool:
        return any(isinstance(s.node, ast.ImportFrom) and s.node.module == "__future__" and
                   any(alias.name == "annotations" for alias in s.node.names) for s in self.statements)


def _main_statements(main: types.ModuleType) -> list[_Statement]:
    """Every statement of the notebook's executed cells (in order) or of the script's file, at the top level
    or inside a top-level `if`, `try` or `with` block (a script's `if __name__ == "__main__":` included)."""
    statements: list[_Statement] = []
    for source in _notebook_cells() or _script_source(main):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue  # a cell of IPython syntax the shell did not turn into Python
        lines = source.splitlines()
        for node in _statements_in(tree.body):
            start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            text = textwrap.dedent("\n".join(lines[start - 1:node.end_lineno]))
            statements.append(_Statement(len(statements), node, text))
    return statements


def _statements_in(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for node in body:
        if isinstance(node, ast.If | ast.With | ast.Try):
            handlers = [handler.body for handler in getattr(node, "handlers", ())]
            for block in (node.body, getattr(node, "orelse", []), *handlers, getattr(node, "finalbody", [])):
                yield from _statements_in(block)
        else:
            yield node


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
    """A value its defining statement recreates without effects outside it: a class, a function, a type, a
    logger, a compiled pattern."""
    return (isinstance(value, type | types.FunctionType | logging.Logger | re.Pattern)
            or typing.get_origin(value) is not None or type(value).__module__ == "typing")


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

