"""Read a formula spec (``[expression]`` and ``[values]``, TOML or JSON, a file or a built-in preset) into a CircuitSpec.

::

    title = "A circuit"
    [expression]          # in order; a later formula may read an earlier name
    q = "x + y"
    f = "q * z"
    [values]
    x = -2                # a number, or an exact constant as a formula: "pi/4"
    [circuit]             # optional
    output = "f"          # the output the backward pass differentiates (default: the last formula)
    composite = "as-written"   # sigmoid as one gate or split: as-written | whole | split

Formulas are read by :mod:`derive.core.expressions` (never evaluated); every problem
is a DeriveError naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import sympy as sp

from derive.core import expressions
from derive.core.spec import _BadNumber, decode, read_json, read_toml
from derive.errors import DeriveError, suggestion

CIRCUIT_PRESET_DIR = Path(__file__).resolve().parent.parent / "presets" / "circuits"
SECTIONS = ("title", "expression", "values", "circuit")
COMPOSITE = ("as-written", "whole", "split")
MAX_FORMULAS = 50
MAX_NAME = 30


@dataclass(frozen=True)
class CircuitSpec:
    """A formula with its named parts, the numbers put in, and how composite gates are drawn."""

    name: str
    title: str
    source: str
    formulas: tuple  # ((name, text, Node), ...) in file order
    values: tuple  # ((name, exact SymPy number), ...) in file order
    output: str
    composite: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.values)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The formulas no later formula reads."""
        read = set().union(*(node.names() for _, _, node in self.formulas))
        return tuple(name for name, _, _ in self.formulas if name not in read)


def circuit_preset_names() -> list[str]:
    """Names of the built-in circuits."""
    return sorted(p.stem for p in CIRCUIT_PRESET_DIR.glob("*.toml"))


def _document(source: str) -> tuple[dict, str, str] | None:
    """The parsed document of a circuit spec (document, where, name), or None when ``source`` is not one."""

    if source in circuit_preset_names() and not Path(source).exists():
        text = (CIRCUIT_PRESET_DIR / f"{source}.toml").read_text(encoding="utf-8")
        return read_toml(text, source), source, source
    path = Path(source)
    try:
        if not path.is_file() or path.stat().st_size > 1_000_000:
            return None
        text = decode(path.read_bytes(), source).removeprefix("\ufeff")
    except (OSError, ValueError, DeriveError):
        return None
    if "expression" not in text:
        return None
    kind = "json" if path.suffix == ".json" or text.lstrip().startswith("{") else "toml"
    try:
        document = read_json(text, source) if kind == "json" else read_toml(text, source)
    except DeriveError:
        return None  # the network reader reports the file's syntax
    if not isinstance(document, dict) or "expression" not in document:
        return None
    return document, source, path.stem if path.stem.strip(".") else "circuit"


def is_circuit(source) -> bool:
    """True when ``source`` names a formula spec (a file with an [expression] section, or a circuit preset)."""
    return _document(str(source)) is not None


def load(source, composite: str | None = None, output: str | None = None) -> CircuitSpec:
    """Load a formula spec from a file or a preset name; ``composite`` and ``output`` override the file's choice."""
    found = _document(str(source))
    if found is None:
        raise DeriveError(str(source), "is not a formula spec (it has no [expression] section)")
    document, where, name = found
    return build(document, where, name, composite, output)


def parse(text: str, where: str = "circuit", kind: str = "toml", name: str = "circuit") -> CircuitSpec:
    """A CircuitSpec from TOML or JSON text."""

    document = read_json(text, where) if kind == "json" else read_toml(text, where)
    return build(document, where, name)


def _fail(where: str, key: str, problem: str):
    raise DeriveError(f"{where}: {key}" if key else where, problem)


def _check_name(name, where: str, key: str) -> None:
    if not (isinstance(name, str) and name.isascii() and name.isidentifier() and not name.startswith("_")
            and len(name) <= MAX_NAME):
        _fail(where, key, f"'{name}' is not a name: use letters, digits and _ (starting with a letter, at most "
              f"{MAX_NAME} characters)")
    if name in expressions.RESERVED:
        _fail(where, key, f"'{name}' is the name of a function or constant; choose another name")


def build(document: dict, where: str, name: str, composite: str | None = None, output: str | None = None) -> CircuitSpec:
    """Check a parsed document and turn it into a CircuitSpec."""
    if not isinstance(document, dict):
        _fail(where, "", "expected a table of sections")
    for key in document:
        if key not in SECTIONS:
            _fail(where, str(key), f"unknown section{suggestion(key, SECTIONS)}; a formula spec has "
                  "[expression], [values] and optionally [circuit]")
    title = document.get("title", "Backpropagation through a circuit")
    if not isinstance(title, str) or not title.strip() or len(title) > 500:
        _fail(where, "title", "expected a short text in quotes")
    expression = document.get("expression")
    if not isinstance(expression, dict) or not expression:
        _fail(where, "expression", 'expected a section [expression] with at least one formula: f = "(x + y) * z"')
    if len(expression) > MAX_FORMULAS:
        _fail(where, "expression", f"at most {MAX_FORMULAS} formulas")
    values = document.get("values")
    if not isinstance(values, dict) or not values:
        _fail(where, "values", "expected a section [values] with a number for every input: x = -2")
    inputs = {}
    for key, value in values.items():
        _check_name(key, where, f"values.{key}")
        inputs[key] = _value(value, where, f"values.{key}")
    known = {n: sp.Symbol(n, real=True) for n in inputs}
    formulas = []
    for key, text in expression.items():
        at = f"expression.{key}"
        _check_name(key, where, at)
        if key in known:
            _fail(where, at, f"'{key}' is already {'an input in [values]' if key in inputs else 'defined above'}")
        if not isinstance(text, str):
            _fail(where, at, f'expected a formula in quotes, such as "(x + y) * z", got {type(text).__name__}')
        node = expressions.tree(text, where, at)
        expressions._check_names(node, known, where, at)
        if node.op == "name":
            _fail(where, at, f"the formula only repeats '{node.name}'; a formula computes something")
        if node.is_constant:
            _fail(where, at, "the formula reads no input; it is a constant, not a circuit")
        formulas.append((key, text, node))
        known[key] = sp.Symbol(key, real=True)
    used = set().union(*(node.names() for _, _, node in formulas))
    for key in inputs:
        if key not in used:
            _fail(where, f"values.{key}", f"'{key}' is not read by any formula")
    settings = document.get("circuit", {})
    if not isinstance(settings, dict):
        _fail(where, "circuit", "expected a section [circuit]")
    for key in settings:
        if key not in ("output", "composite"):
            _fail(where, f"circuit.{key}", f"unknown key{suggestion(key, ('output', 'composite'))}; allowed: "
                  "output, composite")
    names = [key for key, _, _ in formulas]
    chosen = output if output is not None else settings.get("output", names[-1])
    if chosen not in names:
        _fail(where if output is None else "--output", "circuit.output" if output is None else "",
              f"'{chosen}' is not a formula{suggestion(str(chosen), names)}; formulas: {', '.join(names)}")
    mode = composite if composite is not None else settings.get("composite", "as-written")
    if mode not in COMPOSITE:
        _fail(where if composite is None else "--composite", "circuit.composite" if composite is None else "",
              f"unknown choice '{mode}'{suggestion(str(mode), COMPOSITE)}; choose from {', '.join(COMPOSITE)}")
    return CircuitSpec(name, title.strip(), where, tuple(formulas), tuple(inputs.items()), chosen, mode)


def _value(value, where: str, key: str) -> sp.Expr:
    """An input's exact value: a number as written (0.1 is 1/10) or a constant formula ("pi/4")."""

    if isinstance(value, _BadNumber):
        _fail(where, key, f"the number {value.text[:40]} {value.problem}")
    if isinstance(value, bool):
        _fail(where, key, "expected a number, got true/false")
    if isinstance(value, int):
        if abs(value) > 10**300:
            _fail(where, key, "the number is too large")
        return sp.Integer(value)
    if isinstance(value, (Decimal, float)):
        exact = Decimal(str(value))
        if not exact.is_finite():
            _fail(where, key, "expected a finite number")
        if not exact.is_zero() and abs(exact.adjusted()) > 300:
            _fail(where, key, "the number is too large or too small (keep exponents within 1e±300)")
        return sp.Rational(str(Fraction(exact)))
    if isinstance(value, str):
        return expressions.constant(value, where, key)
    _fail(where, key, f"expected a number (or an exact constant in quotes, such as \"pi/4\"), got {type(value).__name__}")
