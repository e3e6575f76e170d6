"""The package's layers: imports point one way, there are no cycles, and nothing hides an import in a function.

Layers from the top: the command line and public API (``derive``), exercises, grading,
formats, documents, io, core; ``derive.errors`` and ``derive.lazy`` sit below them all. A module may import
from its own layer and the layers below it, never from a layer above.

The one way to import late is a module's ``LAZY_MODULES`` table (a dict literal at module
level, from names to module paths, read through ``derive.lazy.Modules``): its entries are held
to the same layers, and ``derive.lazy`` is the only module that imports by name (importlib).
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


#: modules beneath every layer (they import nothing of derive): the error type, and loading modules late
BOTTOM = ("derive.errors", "derive.lazy")


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if module in BOTTOM:
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


def _lazy(path: Path):
    """(module path, line) of every entry of the file's ``LAZY_MODULES`` table, if it has one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "LAZY_MODULES" for t in targets):
            assert isinstance(node.value, ast.Dict), f"{path.name}: LAZY_MODULES is not a dict literal"
            for key, value in zip(node.value.keys, node.value.values):
                assert isinstance(key, ast.Constant) and isinstance(value, ast.Constant) and isinstance(value.value, str), \
                    f"{path.name} line {value.lineno}: LAZY_MODULES maps names to module paths written out as text"
                yield value.value, value.lineno


def _by_name(path: Path):
    """Lines where a file imports by name: importlib, import_module or __import__."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in ("__import__", "import_module"):
            yield node.lineno
        elif isinstance(node, ast.Attribute) and node.attr in ("__import__", "import_module"):
            yield node.lineno
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] == "importlib" for n in names):
                yield node.lineno


MODULES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {_module(p): [(m, line, nested) for m, line, nested in _imports(p)] for p in MODULES}
LAZY = {_module(p): list(_lazy(p)) for p in MODULES}


def test_the_package_has_layers():
    assert {_layer(m) for m in GRAPH} == set(LAYERS)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down(module):
    mine = LAYERS.index(_layer(module))
    late = [(target, line, True) for target, line in LAZY[module]]
    upward = [f"line {line}: {target}" for target, line, _ in GRAPH[module] + late
              if target.startswith("derive") and target != "derive" and LAYERS.index(_layer(target)) < mine]
    assert not upward, f"{module} imports from a layer above it: {upward}"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_hides_in_a_function(module):
    hidden = [f"line {line}: {target}" for target, line, nested in GRAPH[module]
              if nested and target.split(".")[0] not in OPTIONAL]
    assert not hidden, f"{module} imports inside a function: {hidden}"


@pytest.mark.parametrize("module", sorted(m for m in LAZY if LAZY[m]))
def test_a_lazy_table_names_modules_of_the_package(module):
    missing = [f"line {line}: {target}" for target, line in LAZY[module]
               if not target.startswith("derive.") or not _exists(target)]
    assert not missing, f"{module}'s LAZY_MODULES names no module of derive: {missing}"


def test_only_derive_lazy_imports_by_name():
    by_name = {_module(p): lines for p in MODULES if (lines := list(_by_name(p)))}
    assert set(by_name) <= {"derive.lazy"}, f"imports by name outside derive.lazy (use a LAZY_MODULES table): {by_name}"


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
