"""Modules imported on first use, by name from a fixed table.

The command line runs one subcommand, and ``import derive`` may be followed by
nothing but ``derive.solve``: importing every document, exercise and grading module
at start-up would cost more than many runs' own work. A table of module names
(``LAZY_MODULES``, a dict literal at module level) says what may be loaded late;
tests/test_layers.py reads every such table and holds it to the same one-way layers
as the import statements, and this is the only module that calls ``importlib``.
"""

from __future__ import annotations

import importlib


class Modules:
    """The modules of a table as attributes, each imported when first read."""

    def __init__(self, table: dict[str, str]):
        self._table = dict(table)

    def __getattr__(self, name: str):
        try:
            path = self._table[name]
        except KeyError:
            raise AttributeError(f"no module {name!r} in the table") from None
        module = importlib.import_module(path)
        setattr(self, name, module)  # later reads are plain attribute reads
        return module


def attributes(modules: Modules, names: dict[str, str], owner: str):
    """A module's ``__getattr__`` (PEP 562): each name in ``names`` read from its module in ``modules``, on first use."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {owner!r} has no attribute {name!r}")
        return getattr(getattr(modules, names[name]), name)

    return __getattr__
