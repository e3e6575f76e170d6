"""A safe parser of formulas written in a spec: ``(x + y) * z``, ``1 / (1 + exp(-(w0*x0 + w2)))``, ``1 + sin(pi/4)``.

The text is read by the standard library's ``ast`` (never evaluated) and every node is
checked against an allow-list: numbers, names, + - * / ^ ** (``^`` is the power, as
written in mathematics), unary minus and plus, and calls of the functions in
:data:`FUNCTIONS`; ``pi`` and ``e`` are the constants. Anything else (attribute access,
subscripts, lambdas, comparisons, keywords, strings, a power too large to compute, a
formula nested too deeply or too long) is one :class:`ExpressionError` naming the file,
the key and the column where the problem starts.

The result is a small tree of :class:`Node` (what the circuit of gates is built from,
kept exactly as written) or, through :func:`parse` and :func:`constant`, a SymPy
expression built directly from that tree.

Public API::

    tree(text, where, key)            -> Node            the formula as written
    parse(text, names, where, key)    -> sympy.Expr      names: name -> Symbol or expression
    constant(text, where, key)        -> sympy.Expr      an exact number: 1 + sin(pi/4) is 1 + sqrt(2)/2
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Mapping

import sympy as sp

from derive.errors import DeriveError, suggestion

#: the longest formula read (characters): a hand-drawn circuit is far shorter
MAX_LENGTH = 1000
#: the deepest nesting of parentheses, calls or operators
MAX_DEPTH = 60
#: the most digits of a number written in a formula
MAX_DIGITS = 60
#: a power whose value would have more than this many digits (10^10^10) is refused
MAX_POWER_DIGITS = 300
#: the largest constant exponent of a power with a variable base (x^1000000 is not a hand calculation)
MAX_EXPONENT = 1000

#: function name -> (how many arguments: exact count or (least, None) for any number from least)
FUNCTIONS = {
    "exp": 1, "ln": 1, "log": 1, "sqrt": 1, "sin": 1, "cos": 1, "tanh": 1,
    "sigmoid": 1, "relu": 1, "abs": 1, "max": (2, None), "min": (2, None),
}
CONSTANTS = {"pi": sp.pi, "e": sp.E}
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS)

_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}
_UNARY = {ast.USub: "neg", ast.UAdd: "pos"}
_WORDS = {
    ast.BitXor: "^", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
    ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~", ast.Not: "not",
}


class ExpressionError(DeriveError):
    """A formula that cannot be read, with the (1-based) column where the problem starts."""

    def __init__(self, where: str, key: str, column: int, problem: str):
        self.column = column
        super().__init__(f"{where}: {key}" if key else where, f"column {column}: {problem}")


@dataclass(frozen=True)
class Node:
    """One operation of a formula as written.

    ``op`` is 'num' (``value`` an exact SymPy number), 'const' (pi, e), 'name', 'add',
    'sub', 'mul', 'div', 'pow', 'neg', or a function name; ``column`` (1-based) is where
    it starts in the text.
    """

    op: str
    args: tuple = ()
    name: str = ""
    value: object = None
    column: int = 1

    def names(self) -> set[str]:
        """Every name the formula reads."""
        if self.op == "name":
            return {self.name}
        return set().union(*(arg.names() for arg in self.args)) if self.args else set()

    @property
    def is_constant(self) -> bool:
        """True when the node reads no name: its value is a number."""
        return not self.names()


def _powers_as_python(text: str) -> tuple[str, list[int]]:
    """The text with every ``^`` written ``**``, and for each column of the result the column it came from."""
    out, origin = [], []
    for column, char in enumerate(text, start=1):
        if char == "^":
            out.append("**")
            origin += [column, column]
        else:
            out.append(char)
            origin.append(column)
    origin.append(len(text) + 1)
    return "".join(out), origin


def _prescan(text: str, fail) -> None:
    """Refuse what ``ast`` itself cannot be trusted with: long text, odd characters, deep nesting."""
    if not text.strip():
        fail(1, "the formula is empty")
    depth, signs = 0, 0
    for column, char in enumerate(text[:MAX_LENGTH + 1], start=1):
        depth += (char == "(") - (char == ")")
        if depth > MAX_DEPTH:
            fail(column, f"the formula is nested more than {MAX_DEPTH} parentheses deep")
        if char in "+-":
            signs += 1
            if signs > MAX_DEPTH:
                fail(column, f"more than {MAX_DEPTH} signs in a row")
        elif not char.isspace():
            signs = 0
    if len(text) > MAX_LENGTH:
        fail(MAX_LENGTH + 1, f"the formula is longer than {MAX_LENGTH} characters")
    for column, char in enumerate(text, start=1):
        if not (char.isascii() and (char.isprintable() or char in " \t")):
            fail(column, f"the character {char!r} is not part of a formula (write names and operators in ASCII)")
        if char in "'\"":
            fail(column, "a formula holds no text in quotes")
        if char in "[]{}":
            fail(column, f"'{char}' is not part of a formula; group with ( and )")


def tree(text: str, where: str = "expression", key: str = "") -> Node:
    """The formula in ``text`` as a tree of :class:`Node`, checked against the allow-list.

    Raises :class:`ExpressionError` (a DeriveError naming ``where``, ``key`` and the
    column) for anything that is not a formula of the allowed operators and functions.
    """
    if not isinstance(text, str):
        raise DeriveError(f"{where}: {key}" if key else where, f"expected a formula in quotes, got {type(text).__name__}")

    def fail(column, problem):
        raise ExpressionError(where, key, column, problem)

    _prescan(text, fail)
    python, origin = _powers_as_python(text)
    try:
        body = ast.parse(python.strip(), mode="eval").body
    except SyntaxError as error:
        if not error.offset or error.offset > len(python.strip()):  # Python points nowhere: the text ended early
            fail(len(text.rstrip()) + 1, "the formula ends where a number, a name or a '(' is expected")
        offset = error.offset - 1 + (len(python) - len(python.lstrip()))
        column = origin[min(max(offset, 0), len(origin) - 1)]
        reason = (error.msg or "invalid syntax").replace("'**'", "'^'")
        if "never closed" in reason or "unexpected EOF" in reason:
            reason = "a parenthesis is opened and never closed"
        elif "unmatched" in reason:
            reason = "a closing parenthesis ')' has no opening one"
        elif reason.startswith("invalid syntax"):
            reason = "this is not a formula of numbers, names, + - * / ^ and functions"
        fail(column, reason)
    except (RecursionError, MemoryError):
        fail(1, "the formula is nested too deeply")
    lead = len(python) - len(python.lstrip())
    return _Builder(text, origin, lead, fail).node(body, 0)


class _Builder:
    """Turns an allowed ``ast`` node into a :class:`Node`; anything else is an error at its column."""

    def __init__(self, text, origin, lead, fail):
        self.text, self.origin, self.lead, self.fail = text, origin, lead, fail

    def column(self, node) -> int:
        offset = getattr(node, "col_offset", 0) + self.lead
        return self.origin[min(offset, len(self.origin) - 1)]

    def source(self, node) -> str:
        start = self.column(node) - 1
        end = self.origin[min(node.end_col_offset + self.lead, len(self.origin) - 1)] - 1
        return self.text[start:end]

    def node(self, node, depth: int) -> Node:
        at = self.column(node)
        if depth > MAX_DEPTH:
            self.fail(at, f"the formula is nested more than {MAX_DEPTH} operations deep")
        if isinstance(node, ast.Constant):
            return Node("num", value=self.number(node), column=at)
        if isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                return Node("const", name=node.id, value=CONSTANTS[node.id], column=at)
            if node.id in FUNCTIONS:
                self.fail(at, f"'{node.id}' is a function: write {node.id}(...)")
            if node.id.startswith("_"):
                self.fail(at, f"'{node.id}' is not an allowed name (names start with a letter)")
            return Node("name", name=node.id, column=at)
        if isinstance(node, ast.BinOp):
            kind = _BINARY.get(type(node.op))
            if kind is None:
                self.fail(self.operator_column(node), f"the operator '{_WORDS.get(type(node.op), '?')}' is not allowed; "
                          "use + - * / and ^")
            left, right = self.node(node.left, depth + 1), self.node(node.right, depth + 1)
            if kind == "pow":
                self.check_power(left, right, self.operator_column(node))
            return Node(kind, (left, right), column=at)
        if isinstance(node, ast.UnaryOp):
            kind = _UNARY.get(type(node.op))
            if kind is None:
                self.fail(at, f"the operator '{_WORDS.get(type(node.op), '?')}' is not allowed; use + - * / and ^")
            inner = self.node(node.operand, depth + 1)
            return inner if kind == "pos" else Node("neg", (inner,), column=at)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        self.fail(at, _refusal(node))

    def operator_column(self, node) -> int:
        """The column of a binary operator: the first character after the left operand and its parentheses."""
        column = self.origin[min(node.left.end_col_offset + self.lead, len(self.origin) - 1)]
        while column <= len(self.text) and self.text[column - 1] in " \t)":
            column += 1
        return column

    def call(self, node: ast.Call, depth: int) -> Node:
        at = self.column(node)
        if not isinstance(node.func, ast.Name):
            self.fail(self.column(node.func), "only the functions " + ", ".join(FUNCTIONS) + " may be called")
        name = node.func.id
        if name not in FUNCTIONS:
            self.fail(at, f"unknown function '{name}'{suggestion(name, FUNCTIONS)}; allowed: {', '.join(FUNCTIONS)}")
        if node.keywords:
            self.fail(self.column(node.keywords[0].value) if node.keywords[0].arg is None else at,
                      f"{name}(...) takes its arguments by position only")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.fail(self.column(arg), f"{name}(...) takes plain arguments")
        count = FUNCTIONS[name]
        if isinstance(count, int) and len(node.args) != count:
            self.fail(at, f"{name} takes {count} argument{'s' if count > 1 else ''}, got {len(node.args)}"
                      + (" (log is the natural logarithm, ln)" if name == "log" and len(node.args) == 2 else ""))
        if isinstance(count, tuple) and len(node.args) < count[0]:
            self.fail(at, f"{name} takes at least {count[0]} arguments, got {len(node.args)}")
        args = tuple(self.node(arg, depth + 1) for arg in node.args)
        return Node("ln" if name == "log" else name, args, column=at)

    def number(self, node: ast.Constant):
        """A number literal, exactly as written (0.1 is 1/10), from its own text."""
        at = self.column(node)
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "text" if isinstance(value, str) else "an imaginary number" if isinstance(value, complex) \
                else repr(value)
            self.fail(at, f"{kind} is not allowed in a formula")
        written = self.source(node)
        if sum(ch.isdigit() for ch in written) > MAX_DIGITS:
            self.fail(at, f"the number has more than {MAX_DIGITS} digits")
        try:
            exact = Decimal(written.replace("_", ""))
        except InvalidOperation:
            self.fail(at, f"'{written}' is not a number")
        if not exact.is_finite() or (not exact.is_zero() and abs(exact.adjusted()) > MAX_POWER_DIGITS):
            self.fail(at, f"the number {written} is too large or too small (keep it within 1e±{MAX_POWER_DIGITS})")
        return sp.Rational(str(exact))

    def check_power(self, base: Node, exponent: Node, at: int) -> None:
        """Refuse a power whose value would be astronomically large or small (10^10^10)."""
        if not exponent.is_constant:
            return
        e = _magnitude(exponent)
        if e is None:
            return
        if base.is_constant:
            b = _magnitude(base)
            if b is not None and b > 0 and abs(e) * abs(math.log10(b)) > MAX_POWER_DIGITS:
                self.fail(at, f"the power is too large to compute (its value has more than {MAX_POWER_DIGITS} digits)")
        elif abs(e) > MAX_EXPONENT:
            self.fail(at, f"the exponent is larger than {MAX_EXPONENT}")


def _magnitude(node: Node):
    """The float size of a constant node, None when it cannot be told cheaply; inf when it overflows."""
    try:
        value = float(abs(sp.N(to_sympy(node, {}), 15)))
    except (TypeError, ValueError, OverflowError):
        return math.inf
    return value if math.isfinite(value) else math.inf


def _refusal(node) -> str:
    """Why an ``ast`` node is not part of a formula, in a student's words."""
    return {
        ast.Attribute: "attribute access ('.') is not allowed in a formula",
        ast.Subscript: "indexing with [ ] is not allowed in a formula",
        ast.Lambda: "lambda is not allowed in a formula",
        ast.Compare: "comparisons are not allowed in a formula",
        ast.BoolOp: "'and' / 'or' are not allowed in a formula",
        ast.IfExp: "'if ... else' is not allowed in a formula",
        ast.Tuple: "a formula is one expression (a ',' outside a function's parentheses)",
        ast.NamedExpr: "':=' is not allowed in a formula",
    }.get(type(node), f"'{type(node).__name__}' is not part of a formula; use numbers, names, + - * / ^ and functions")


# SymPy forms of the two functions SymPy does not have: they evaluate on numbers, keep their name otherwise.
class sigmoid(sp.Function):
    """The logistic function 1 / (1 + e^-x); its derivative is sigmoid(x) (1 - sigmoid(x))."""

    @classmethod
    def eval(cls, x):
        if x.is_Number or (x.is_number and x.is_constant()):
            return 1 / (1 + sp.exp(-x))
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _latex(self, printer):
        return rf"\sigma\left({printer._print(self.args[0])}\right)"


class relu(sp.Function):
    """max(0, x) with derivative 0 at 0, as PyTorch takes it."""

    @classmethod
    def eval(cls, x):
        if x.is_number and x.is_comparable:
            return x if x > 0 else sp.Integer(0)
        return None

    def fdiff(self, argindex=1):
        return sp.Piecewise((1, self.args[0] > 0), (0, True))

    def _eval_rewrite_as_Piecewise(self, x, **kwargs):
        return sp.Piecewise((x, x > 0), (0, True))

    def _latex(self, printer):
        return rf"\operatorname{{ReLU}}\left({printer._print(self.args[0])}\right)"


_SYMPY = {
    "exp": sp.exp, "ln": sp.log, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos, "tanh": sp.tanh,
    "sigmoid": sigmoid, "relu": relu, "abs": sp.Abs, "max": sp.Max, "min": sp.Min,
}


def to_sympy(node: Node, names: Mapping[str, sp.Expr]) -> sp.Expr:
    """The SymPy expression of a tree; ``names`` maps every name it reads to a Symbol or an expression."""
    op = node.op
    if op in ("num", "const"):
        return node.value
    if op == "name":
        return names[node.name]
    args = [to_sympy(arg, names) for arg in node.args]
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1]
    if op == "mul":
        return args[0] * args[1]
    if op == "div":
        return args[0] / args[1]
    if op == "pow":
        return args[0] ** args[1]
    if op == "neg":
        return -args[0]
    return _SYMPY[op](*args)


def elementary(expr: sp.Expr) -> sp.Expr:
    """The expression with sigmoid and relu written out (exp and Piecewise), for SymPy's own derivative."""
    return expr.replace(sigmoid, lambda x: 1 / (1 + sp.exp(-x))).replace(
        relu, lambda x: sp.Piecewise((x, x > 0), (0, True)))


def parse(text: str, names: Mapping[str, sp.Expr] | None = None, where: str = "expression", key: str = "") -> sp.Expr:
    """The SymPy expression of a formula.

    ``names`` maps each name the formula may read to a SymPy Symbol or expression; any
    other name is an error naming the nearest allowed one. Numbers are exact (0.1 is
    1/10); ``pi`` and ``e`` are SymPy's. Nothing in ``text`` is ever evaluated as code.
    """
    names = dict(names or {})
    root = tree(text, where, key)
    _check_names(root, names, where, key)
    return _built(root, names, where, key)


def constant(text: str, where: str = "expression", key: str = "") -> sp.Expr:
    """An exact number written as a formula: ``0.15`` is 3/20, ``1 + sin(pi/4)`` is 1 + sqrt(2)/2.

    The result is a SymPy number (Rational where the formula is rational). A formula
    that reads a name, or has no real value (``ln(-1)``, ``1/0``), is an error.
    """
    root = tree(text, where, key)
    _check_names(root, {}, where, key)
    _size(root, lambda column, problem: _raise(ExpressionError(where, key, column, problem)))
    value = _built(root, {}, where, key)
    if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo) or value.is_real is False or not value.is_number:
        raise ExpressionError(where, key, 1, "the formula has no real value")
    return value


def _raise(error):
    raise error


#: the largest size of any intermediate value of a constant (its float walk): keeps exp(exp(exp(10))) out of SymPy
MAX_MAGNITUDE = 10.0**MAX_POWER_DIGITS

_FLOAT = {
    "exp": math.exp, "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tanh": math.tanh, "abs": abs,
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)) if x > -700 else 0.0, "relu": lambda x: max(x, 0.0),
    "max": max, "min": min,
}


def _size(node: Node, fail) -> float:
    """A constant's value in floats, node by node, failing at the column of a step with no real or no
    reasonable value (ln of a negative number, division by zero, an intermediate beyond 1e300)."""
    if node.op in ("num", "const"):
        return float(node.value)
    args = [_size(arg, fail) for arg in node.args]
    op = node.op
    try:
        if op == "add":
            value = args[0] + args[1]
        elif op == "sub":
            value = args[0] - args[1]
        elif op == "mul":
            value = args[0] * args[1]
        elif op == "div":
            if args[1] == 0:
                fail(node.args[1].column, "division by zero")
            value = args[0] / args[1]
        elif op == "pow":
            if args[0] < 0 and args[1] != int(args[1]):
                fail(node.column, "a negative number to a fractional power has no real value")
            if args[0] == 0 and args[1] < 0:
                fail(node.column, "zero to a negative power (division by zero)")
            value = args[0] ** args[1]
        elif op == "neg":
            value = -args[0]
        elif op == "ln":
            if args[0] <= 0:
                fail(node.column, "the logarithm of a number that is not positive has no real value")
            value = math.log(args[0])
        elif op == "sqrt" and args[0] < 0:
            fail(node.column, "the square root of a negative number has no real value")
        else:
            value = _FLOAT[op](*args)
    except OverflowError:
        value = math.inf
    if isinstance(value, complex) or not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        fail(node.column, f"the value here is too large (keep every step within 1e{MAX_POWER_DIGITS})")
    return value


def _check_names(root: Node, names: Mapping, where: str, key: str) -> None:
    """Every name the formula reads must be one of ``names``."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.op == "name" and node.name not in names:
            known = sorted(names)
            hint = suggestion(node.name, known) if known else ""
            listing = f"; known names: {', '.join(known)}" if known else "; a number is expected here, not a name"
            raise ExpressionError(where, key, node.column, f"unknown name '{node.name}'{hint}{listing}")
        stack.extend(node.args)


def _built(root: Node, names, where: str, key: str) -> sp.Expr:
    try:
        return to_sympy(root, names)
    except (RecursionError, MemoryError, OverflowError):
        raise ExpressionError(where, key, 1, "the formula is too large to compute") from None


# -- a formula printed as written -------------------------------------------------------------

_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_LATEX_CALLS = {"exp": r"\exp", "ln": r"\ln", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh",
                "sigmoid": r"\sigma", "relu": r"\operatorname{ReLU}", "max": r"\max", "min": r"\min"}


def latex(text: str, where: str = "expression", key: str = "") -> str:
    """The LaTeX of a formula in the order it is written: ``1 + sin(pi/4)`` is ``1 + \\sin\\left(\\frac{\\pi}{4}\\right)``.

    Unlike SymPy's printer it neither reorders nor simplifies: the givens of a problem
    read as the book writes them.
    """
    return _latex(tree(text, where, key))


def _decimal(value: sp.Rational) -> str:
    """A number literal as a decimal (it was written as one), or p/q when it does not terminate."""
    p, q = int(value.p), int(value.q)
    places, d = 0, q
    for prime in (2, 5):
        count = 0
        while d % prime == 0:
            d, count = d // prime, count + 1
        places = max(places, count)
    if d != 1:
        return rf"\frac{{{p}}}{{{q}}}"
    digits = str(abs(p) * 10**places // q).rjust(places + 1, "0")
    text = digits if not places else f"{digits[:-places]}.{digits[-places:]}"
    return ("-" if p < 0 else "") + text


def _latex(node: Node, context: int = 0) -> str:
    op = node.op
    if op == "num":
        return _decimal(node.value)
    if op == "const":
        return r"\pi" if node.name == "pi" else "e"
    if op == "name":
        return node.name
    mine = _PRECEDENCE.get(op, 5)
    if op == "div":
        text = rf"\frac{{{_latex(node.args[0])}}}{{{_latex(node.args[1])}}}"
    elif op == "pow":
        base = node.args[0]
        inner = _latex(base, 5)
        text = f"{inner}^{{{_latex(node.args[1])}}}"
    elif op == "sqrt":
        text = rf"\sqrt{{{_latex(node.args[0])}}}"
    elif op == "abs":
        text = rf"\left|{_latex(node.args[0])}\right|"
    elif op in ("add", "sub"):
        sign = " + " if op == "add" else " - "
        text = _latex(node.args[0], 1) + sign + _right(node.args[1], 2 if op == "sub" else 1)
    elif op == "mul":
        text = _latex(node.args[0], 2) + r" \cdot " + _right(node.args[1], 3)
    elif op == "neg":
        text = "-" + _latex(node.args[0], 3)
    else:
        text = _LATEX_CALLS[op] + r"\left(" + ", ".join(_latex(arg) for arg in node.args) + r"\right)"
    if mine < context or (context == 5 and op not in ("sqrt", "abs") and mine < 5) or (op == "pow" and context == 5):
        return rf"\left({text}\right)"
    return text


def _right(node: Node, context: int) -> str:
    """A right operand: a negative one in parentheses (1 - (-2), not 1 - -2)."""
    return rf"\left({_latex(node)}\right)" if node.op == "neg" else _latex(node, context)
