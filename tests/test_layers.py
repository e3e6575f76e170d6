"""The package's layers: imports point one way, there are no cycles, and nothing hides an import in a function.

Layers from the top: the command line and public API (``derive``), exercises, grading,
formats, documents, io, core; ``derive.errors`` sits below them all. A module may import
from its own layer and the layers below it, never from a layer above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "derive"

#: top to bottom; a module imports only from its own layer or one further down the list
LAYERS = ("derive", "exercises", "grading", "formats", "documents", "io", "core", "errors")

#: imports that may stay inside a function: optional or heavy dependencies that most runs never need
#: (latex2mathml, for HTML slides and Canvas quizzes only, pulls in urllib, http.client, ssl and email)
OPTIONAL = ("torch", "numpy", "IPython", "latex2mathml")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if module == "derive.errors":
        return "errors"
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS and parts[1] != "errors"
                                          and (PACKAGE / parts[1]).is_dir()) else "derive"


def _imports(path: Path):
    """(imported module, line, inside a function) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    functions = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.update(id(inner) for inner in ast.walk(node) if inner is not node)
    for node in ast.walk(tree):
        nested = id(node) in functions
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, nested
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target == "derive" or (node.level and not node.module):
                # `from derive import x`: x may be a module of the package
                for alias in node.names:
                    candidate = f"{target}.{alias.name}"
                    yield candidate if _exists(candidate) else target, node.lineno, nested
            else:
                yield target, node.lineno, nested


def _exists(module: str) -> bool:
    path = PACKAGE.parent / module.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


MODULES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {_module(p): [(m, line, nested) for m, line, nested in _imports(p)] for p in MODULES}


def test_the_package_has_layers():
    assert {_layer(m) for m in GRAPH} == set(LAYERS)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module):
    mine = LAYERS.index(_layer(module))
    upward = [f"line {line}: {target}" for target, line, _ in GRAPH[module]
              if target.startswith("derive") and target != "derive" and LAYERS.index(_layer(target)) < mine]
    assert not upward, f"{module} imports from a layer above it: {upward}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_hides_in_a_function(module):
    hidden = [f"line {line}: {target}" for target, line, nested in GRAPH[module]
              if nested and target.split(".")[0] not in OPTIONAL]
    assert not hidden, f"{module} imports inside a function: {hidden}"


def test_no_import_cycles():
    edges = {m: {t for t, _, nested in deps if t in GRAPH and t != m and not nested} for m, deps in GRAPH.items()}
    # a package's __init__ is imported before its modules; an edge to it is an edge to what it imports
    seen, stack, cycles = {}, [], []

    def visit(node):
        seen[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if seen.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = "done"

    for node in sorted(edges):
        if node not in seen:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"
