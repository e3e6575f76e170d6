"""A formula as a circuit of gates: the forward sweep puts the numbers in, the backward sweep applies the chain rule.

Each operation of the formula, as written, is a gate (constants fold into their gate:
``1 + e^u`` is the gate "+1"); gates are kept in topological order, inputs first.
Forward: each gate's value from its inputs. Backward: for each gate, from the output
back, local gradient x upstream gradient = the gradient sent to each input; a wire
that fans out into several gates (or twice into one) sums what comes back. Values are
exact rationals while the arithmetic is rational and 60-digit floats once a
transcendental function is taken. :func:`verify` compares every input's gradient with
SymPy's own derivative of the whole formula.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from math import isqrt

import sympy as sp

from derive.core import expressions
from derive.core.circuit_spec import CircuitSpec
from derive.core.expressions import Node
from derive.core.numeric import MP, is_exact, to_mp
from derive.errors import DeriveError

Number = object  # Fraction or a 60-digit mpf


@dataclass(frozen=True)
class Gate:
    """One gate: ``output = kind(inputs)``; ``constant`` is the number folded into it (the 1 of "+1")."""

    index: int  # 1-based, in topological order
    kind: str
    inputs: tuple[str, ...]  # wire names; a wire may appear twice (x * x)
    output: str
    constant: sp.Expr | None = None

    @property
    def label(self) -> str:
        """The gate's label in plain text, as drawn on its node."""
        return _LABELS[self.kind](_constant_text(self.constant))

    @property
    def label_latex(self) -> str:
        return _LABELS_LATEX[self.kind](_constant_latex(self.constant))


@dataclass(frozen=True)
class Contribution:
    """What one gate sends back to one of its inputs: local gradient x upstream gradient."""

    gate: int
    slot: int  # which input of the gate (0, 1)
    wire: str
    local: Number
    upstream: Number
    value: Number


@dataclass(frozen=True)
class Verification:
    method: str
    gradients: dict  # input -> SymPy's direct derivative, evaluated


@dataclass(frozen=True)
class Circuit:
    """A solved circuit: its gates, every wire's value, and the gradient of the output on every wire."""

    spec: CircuitSpec
    gates: tuple[Gate, ...]
    inputs: tuple[str, ...]
    values: dict  # wire -> value
    output: str  # the differentiated output
    gradients: dict  # wire -> d output / d wire, for every wire the output depends on
    contributions: dict  # wire -> tuple of Contribution, in the order the backward sweep makes them
    local: dict  # (gate index, slot) -> local gradient value
    symbols: dict  # wire -> SymPy Symbol
    formula: sp.Expr  # the differentiated output as a formula of the inputs
    verification: Verification

    @property
    def wires(self) -> tuple[str, ...]:
        """Every wire, inputs first, then gate outputs in topological order."""
        return self.inputs + tuple(g.output for g in self.gates)

    def producer(self, wire: str) -> Gate | None:
        return next((g for g in self.gates if g.output == wire), None)

    def consumers(self, wire: str) -> list[tuple[Gate, int]]:
        """(gate, slot) for every place the wire goes into."""
        return [(g, k) for g in self.gates for k, w in enumerate(g.inputs) if w == wire]

    def fans_out(self, wire: str) -> bool:
        return len([c for c in self.contributions.get(wire, ())]) > 1

    def gradient_name(self, wire: str) -> str:
        return f"d{self.output}/d{wire}"

    def quantities(self) -> dict:
        """Every value by name: the wires, then the gradients as d<output>/d<wire>."""
        out = dict(self.values)
        out.update({self.gradient_name(w): self.gradients[w] for w in self.wires if w in self.gradients})
        return out


def _constant_text(c) -> str:
    return "" if c is None else sp.sstr(c)


def _constant_latex(c) -> str:
    return "" if c is None else sp.latex(c)


def _paren_text(text: str) -> str:
    return f"({text})" if text.startswith("-") or any(ch in text for ch in "+-*/ ") else text


def _paren_latex(text: str) -> str:
    return rf"({text})" if text.startswith("-") or any(ch in text for ch in "+-") else text


#: how each kind is drawn on its node; the argument is the folded constant
_LABELS = {
    "add": lambda c: "+", "sub": lambda c: "-", "mul": lambda c: "*", "div": lambda c: "/", "pow": lambda c: "^",
    "neg": lambda c: "*-1", "addc": lambda c: f"+{_paren_text(c)}" if not c.startswith("-") else f"-{c[1:]}",
    "rsub": lambda c: f"{c}-", "mulc": lambda c: f"*{_paren_text(c)}", "divc": lambda c: f"/{_paren_text(c)}",
    "recip": lambda c: f"{_paren_text(c)}/x", "powc": lambda c: f"x^{_paren_text(c)}",
    "cpow": lambda c: f"{_paren_text(c)}^x", "exp": lambda c: "exp", "ln": lambda c: "ln", "sqrt": lambda c: "sqrt",
    "sin": lambda c: "sin", "cos": lambda c: "cos", "tanh": lambda c: "tanh", "sigmoid": lambda c: "sigmoid",
    "relu": lambda c: "relu", "abs": lambda c: "abs", "max": lambda c: "max", "min": lambda c: "min",
    "maxc": lambda c: f"max(.,{c})", "minc": lambda c: f"min(.,{c})",
}
_LABELS_LATEX = {
    "add": lambda c: "+", "sub": lambda c: "-", "mul": lambda c: r"\times", "div": lambda c: r"\div",
    "pow": lambda c: r"x^{y}", "neg": lambda c: r"\cdot(-1)",
    "addc": lambda c: f"+{_paren_latex(c)}" if not c.startswith("-") else f"-{c[1:]}",
    "rsub": lambda c: f"{c}-", "mulc": lambda c: rf"\cdot{_paren_latex(c)}", "divc": lambda c: rf"\div{_paren_latex(c)}",
    "recip": lambda c: rf"\frac{{{c}}}{{x}}", "powc": lambda c: f"x^{{{c}}}", "cpow": lambda c: f"{_paren_latex(c)}^{{x}}",
    "exp": lambda c: r"\exp", "ln": lambda c: r"\ln", "sqrt": lambda c: r"\sqrt{\ }", "sin": lambda c: r"\sin",
    "cos": lambda c: r"\cos", "tanh": lambda c: r"\tanh", "sigmoid": lambda c: r"\sigma", "relu": lambda c: r"\mathrm{ReLU}",
    "abs": lambda c: r"|\cdot|", "max": lambda c: r"\max", "min": lambda c: r"\min",
    "maxc": lambda c: rf"\max(\cdot,{c})", "minc": lambda c: rf"\min(\cdot,{c})",
}
#: the gate kinds of one input
UNARY = {"neg", "addc", "rsub", "mulc", "divc", "recip", "powc", "cpow", "exp", "ln", "sqrt", "sin", "cos", "tanh",
         "sigmoid", "relu", "abs", "maxc", "minc"}


def gate_expression(gate: Gate, a: sp.Expr, b: sp.Expr | None = None) -> sp.Expr:
    """The gate's output as a SymPy expression of its inputs ``a`` (and ``b``)."""
    c = gate.constant
    return {
        "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b, "div": lambda: a / b, "pow": lambda: a ** b,
        "neg": lambda: -a, "addc": lambda: a + c, "rsub": lambda: c - a, "mulc": lambda: c * a, "divc": lambda: a / c,
        "recip": lambda: c / a, "powc": lambda: a ** c, "cpow": lambda: c ** a, "exp": lambda: sp.exp(a),
        "ln": lambda: sp.log(a), "sqrt": lambda: sp.sqrt(a), "sin": lambda: sp.sin(a), "cos": lambda: sp.cos(a),
        "tanh": lambda: sp.tanh(a), "sigmoid": lambda: expressions.sigmoid(a), "relu": lambda: expressions.relu(a),
        "abs": lambda: sp.Abs(a), "max": lambda: sp.Max(a, b), "min": lambda: sp.Min(a, b),
        "maxc": lambda: sp.Max(a, c), "minc": lambda: sp.Min(a, c),
    }[gate.kind]()


# ---------------------------------------------------------------- values: Fraction while rational, else 60 digits

def _mp(x):
    return to_mp(x) if is_exact(x) else x


def _number(c: sp.Expr):
    """A SymPy constant as a value: Fraction when rational, else 60 digits."""
    if c.is_Rational:
        return Fraction(int(c.p), int(c.q))
    return MP.mpf(str(sp.N(c, 70)))


def _binary(op, a, b):
    if is_exact(a) and is_exact(b):
        return op(Fraction(a), Fraction(b))
    return op(_mp(a), _mp(b))


def _less(a, b) -> bool:
    return _binary(lambda p, q: p < q, a, b)


def _exact_root(x: Fraction):

    p, q = isqrt(x.numerator), isqrt(x.denominator)
    return Fraction(p, q) if p * p == x.numerator and q * q == x.denominator else None


class _Undefined(Exception):
    """The formula has no value (or no derivative) at these numbers."""


def _power(a, b):
    if is_exact(a) and is_exact(b) and Fraction(b).denominator == 1 and abs(b) <= expressions.MAX_EXPONENT:
        if a == 0 and b < 0:
            raise _Undefined("0 to a negative power")
        return Fraction(a) ** int(b)
    if a == 0:
        if b > 0:
            return Fraction(0)
        raise _Undefined("0 to a power that is not positive")
    if a < 0:
        if is_exact(b) and Fraction(b).denominator == 1:
            return _mp(a) ** int(b)
        raise _Undefined("a negative number to a power that is not whole")
    return MP.power(_mp(a), _mp(b))


def _ln(a):
    if a <= 0:
        raise _Undefined(f"ln of {'0' if a == 0 else 'a negative number'}")
    return Fraction(0) if a == 1 else MP.log(_mp(a))


def _sqrt(a):
    if a < 0:
        raise _Undefined("the square root of a negative number")
    root = _exact_root(Fraction(a)) if is_exact(a) else None
    return root if root is not None else MP.sqrt(_mp(a))


def _divide(a, b):
    if b == 0:
        raise _Undefined("a division by 0")
    return _binary(lambda p, q: p / q, a, b)


def _function(name):
    """exp, sin, ... of a value: exact where the value is (exp(0) = 1), else 60 digits."""
    zero = {"exp": Fraction(1), "sin": Fraction(0), "cos": Fraction(1), "tanh": Fraction(0), "sigmoid": Fraction(1, 2)}

    def apply(a):
        if is_exact(a) and a == 0:
            return zero[name]
        x = _mp(a)
        if name == "sigmoid":
            return 1 / (1 + MP.exp(-x))
        return getattr(MP, name)(x)

    return apply


def _sign(a):
    return Fraction(0) if a == 0 else Fraction(1 if a > 0 else -1)


def _route(a, b):
    """The max gate's routing to its first input: 1 when it is the larger, 0 when smaller, 1/2 at a tie."""
    return Fraction(1) if _less(b, a) else Fraction(0) if _less(a, b) else Fraction(1, 2)


def forward_value(gate: Gate, a, b=None, c=None):
    """The gate's output value from its input values (``c``: its constant's value)."""
    k = gate.kind
    add, mul = (lambda p, q: _binary(lambda x, y: x + y, p, q)), (lambda p, q: _binary(lambda x, y: x * y, p, q))
    if k == "add":
        return add(a, b)
    if k == "sub":
        return _binary(lambda x, y: x - y, a, b)
    if k == "mul":
        return mul(a, b)
    if k == "div":
        return _divide(a, b)
    if k == "pow":
        return _power(a, b)
    if k == "neg":
        return -a
    if k == "addc":
        return add(a, c)
    if k == "rsub":
        return _binary(lambda x, y: x - y, c, a)
    if k == "mulc":
        return mul(c, a)
    if k == "divc":
        return _divide(a, c)
    if k == "recip":
        return _divide(c, a)
    if k == "powc":
        return _power(a, c)
    if k == "cpow":
        return _power(c, a)
    if k in ("exp", "sin", "cos", "tanh", "sigmoid"):
        return _function(k)(a)
    if k == "ln":
        return _ln(a)
    if k == "sqrt":
        return _sqrt(a)
    if k == "relu":
        return a if a > 0 else Fraction(0)
    if k == "abs":
        return -a if a < 0 else a
    if k in ("max", "maxc"):
        other = b if k == "max" else c
        return other if _less(a, other) else a
    if k in ("min", "minc"):
        other = b if k == "min" else c
        return other if _less(other, a) else a
    raise ValueError(k)


def local_values(gate: Gate, a, b, c, out) -> tuple:
    """The local gradient d out / d input for each input, from the input values and the gate's output."""
    k = gate.kind
    mul = lambda p, q: _binary(lambda x, y: x * y, p, q)
    one = Fraction(1)
    if k == "add":
        return one, one
    if k == "sub":
        return one, -one
    if k == "mul":
        return b, a
    if k == "div":
        return _divide(one, b), -_divide(a, mul(b, b))
    if k == "pow":
        if a <= 0:
            raise _Undefined("the derivative of a^b at a base that is not positive")
        return mul(b, _power(a, _binary(lambda x, y: x - y, b, one))), mul(out, _ln(a))
    if k == "neg":
        return (-one,)
    if k == "addc":
        return (one,)
    if k == "rsub":
        return (-one,)
    if k == "mulc":
        return (c,)
    if k == "divc":
        return (_divide(one, c),)
    if k == "recip":
        return (-_divide(c, mul(a, a)),)
    if k == "powc":
        if c == 1:
            return (one,)
        return (mul(c, _power(a, _binary(lambda x, y: x - y, c, one))),)
    if k == "cpow":
        return (mul(out, _ln(c)),)
    if k == "exp":
        return (out,)
    if k == "ln":
        return (_divide(one, a),)
    if k == "sqrt":
        if out == 0:
            raise _Undefined("the derivative of the square root at 0")
        return (_divide(one, mul(2, out)),)
    if k == "sin":
        return (_function("cos")(a),)
    if k == "cos":
        return (-_function("sin")(a),)
    if k == "tanh":
        return (_binary(lambda x, y: x - y, one, mul(out, out)),)
    if k == "sigmoid":
        return (mul(out, _binary(lambda x, y: x - y, one, out)),)
    if k == "relu":
        return (one if a > 0 else Fraction(0),)
    if k == "abs":
        return (_sign(a),)
    if k == "max":
        return _route(a, b), _route(b, a)
    if k == "min":
        return _route(b, a), _route(a, b)
    if k == "maxc":
        return (_route(a, c),)
    if k == "minc":
        return (_route(c, a),)
    raise ValueError(k)


# ---------------------------------------------------------------- the formula tree as gates

def _sigmoid_split(u: Node) -> Node:
    """sigmoid(u) as the primitive gates of its definition: 1 / (1 + exp(-u))."""
    one = Node("num", value=sp.Integer(1), column=u.column)
    return Node("div", (one, Node("add", (one, Node("exp", (Node("neg", (u,), column=u.column),), column=u.column)),
                                  column=u.column)), column=u.column)


def _sigmoid_argument(node: Node) -> Node | None:
    """u when the node is written 1 / (1 + exp(-u)) (or 1 / (exp(-u) + 1)), else None."""
    def is_one(n):
        return n.op == "num" and n.value == 1

    if node.op != "div" or not is_one(node.args[0]) or node.args[1].op != "add":
        return None
    left, right = node.args[1].args
    power = right if is_one(left) else left if is_one(right) else None
    if power is None or power.op != "exp" or power.args[0].op != "neg":
        return None
    return power.args[0].args[0]


def rewrite(node: Node, composite: str) -> Node:
    """The tree with composite gates as ``composite`` asks: whole (sigmoid as one gate), split, or as written."""
    args = tuple(rewrite(arg, composite) for arg in node.args)
    node = Node(node.op, args, node.name, node.value, node.column)
    if composite == "split" and node.op == "sigmoid":
        return _sigmoid_split(args[0])
    if composite == "whole":
        u = _sigmoid_argument(node)
        if u is not None:
            return Node("sigmoid", (u,), column=node.column)
    return node


class _Builder:
    """Turns the formula trees into gates in topological order (post-order, left to right)."""

    def __init__(self, inputs):
        self.gates: list[Gate] = []
        self.unnamed = 0
        self.taken = set(inputs)

    def constant(self, node: Node) -> sp.Expr:
        return expressions.to_sympy(node, {})

    def gate(self, kind: str, inputs, constant=None, output: str | None = None) -> str:
        if output is None:
            self.unnamed += 1
            while f"u{self.unnamed}" in self.taken:
                self.unnamed += 1
            output = f"u{self.unnamed}"
        self.taken.add(output)
        self.gates.append(Gate(len(self.gates) + 1, kind, tuple(inputs), output, constant))
        return output

    def wire(self, node: Node, output: str | None = None) -> str:
        """The wire carrying ``node``'s value, building the gates it needs; ``output`` names the last one."""
        if node.op == "name":
            return node.name
        op, args = node.op, node.args
        if op in ("max", "min") and len(args) > 2:  # max(a, b, c) = max(max(a, b), c)
            inner = Node(op, args[:-1], column=node.column)
            return self.wire(Node(op, (inner, args[-1]), column=node.column), output)
        if op in ("add", "sub", "mul", "div", "pow", "max", "min"):
            a, b = args
            if a.is_constant and b.is_constant:  # not reached: a constant subtree is folded by the caller
                raise ValueError("constant gate")
            if b.is_constant:
                kind = {"add": "addc", "sub": "addc", "mul": "mulc", "div": "divc", "pow": "powc", "max": "maxc",
                        "min": "minc"}[op]
                c = self.constant(b)
                return self.gate(kind, (self.wire(a),), -c if op == "sub" else c, output)
            if a.is_constant:
                kind = {"add": "addc", "sub": "rsub", "mul": "mulc", "div": "recip", "pow": "cpow", "max": "maxc",
                        "min": "minc"}[op]
                return self.gate(kind, (self.wire(b),), self.constant(a), output)
            first = self.wire(a)
            return self.gate(op, (first, self.wire(b)), None, output)
        (a,) = args
        return self.gate(op, (self.wire(a),), None, output)


def gates_of(spec: CircuitSpec) -> tuple[Gate, ...]:
    """The circuit's gates in topological order, each named formula's last gate carrying its name."""
    builder = _Builder(spec.inputs)
    builder.taken |= {name for name, _, _ in spec.formulas}
    for name, _, node in spec.formulas:
        builder.wire(rewrite(node, spec.composite), output=name)
    return tuple(builder.gates)


# ---------------------------------------------------------------- the sweeps

def solve(spec: CircuitSpec, verify_symbolic: bool = True) -> Circuit:
    """Build the circuit, run the forward and backward sweeps and verify the gradients.

    Raises DeriveError when the formula has no value or no derivative at the numbers given.
    """
    gates = gates_of(spec)
    inputs = spec.inputs
    values = {name: _number(v) for name, v in spec.values}
    symbols = {w: sp.Symbol(w, real=True) for w in inputs + tuple(g.output for g in gates)}
    constants = {}
    for gate in gates:
        ins = [values[w] for w in gate.inputs]
        c = constants.setdefault(gate.index, None if gate.constant is None else _number(gate.constant))
        try:
            values[gate.output] = forward_value(gate, *ins, *([None] * (2 - len(ins))), c)
        except _Undefined as why:
            raise DeriveError(f"{spec.source}: values", f"gate {gate.index} ({gate.label}) meets {why}: "
                              f"the formula has no value at these numbers") from None
    # only the gates the output depends on take part in the backward sweep
    needed = {spec.output}
    for gate in reversed(gates):
        if gate.output in needed:
            needed |= set(gate.inputs)
    gradients = {spec.output: Fraction(1)}
    contributions: dict[str, list] = {}
    local = {}
    for gate in reversed(gates):
        if gate.output not in needed:
            continue
        o = gate.output
        if o != spec.output:
            parts = contributions[o]
            gradients[o] = _total(p.value for p in parts)
        ins = [values[w] for w in gate.inputs]
        try:
            locals_ = local_values(gate, *ins, *([None] * (2 - len(ins))), constants[gate.index], values[o])
        except _Undefined as why:
            raise DeriveError(f"{spec.source}: values", f"gate {gate.index} ({gate.label}) meets {why}: the "
                              "formula has no derivative at these numbers") from None
        for slot, (wire, lg) in enumerate(zip(gate.inputs, locals_)):
            local[(gate.index, slot)] = lg
            value = _binary(lambda x, y: x * y, lg, gradients[o])
            contributions.setdefault(wire, []).append(Contribution(gate.index, slot, wire, lg, gradients[o], value))
    for wire in inputs:
        if wire in contributions:
            gradients[wire] = _total(p.value for p in contributions[wire])
    formula = _formula(spec, gates, symbols)
    circuit = Circuit(spec, gates, inputs, values, spec.output, gradients,
                      {w: tuple(c) for w, c in contributions.items()}, local, symbols, formula, Verification("", {}))
    return _verified(circuit, verify_symbolic)


def _total(values):
    values = list(values)
    total = values[0]
    for v in values[1:]:
        total = _binary(lambda x, y: x + y, total, v)
    return total


def _formula(spec: CircuitSpec, gates, symbols) -> sp.Expr:
    """The differentiated output as one SymPy formula of the inputs, from the formulas as written."""
    names = {w: symbols[w] for w in spec.inputs}
    for name, _, node in spec.formulas:
        names[name] = expressions.to_sympy(node, names)
    return names[spec.output]


class GradientMismatch(AssertionError):
    """The backward sweep disagrees with SymPy's direct derivative: a bug in derive."""


def _close(a, b) -> bool:
    if is_exact(a) and is_exact(b):
        return Fraction(a) == Fraction(b)
    a, b = _mp(a), _mp(b)
    return abs(a - b) <= MP.mpf(10) ** -45 * max(1, abs(a), abs(b))


def _verified(circuit: Circuit, verify_symbolic: bool) -> Circuit:
    """Compare every input's gradient with SymPy's derivative of the whole formula at the numbers."""

    spec = circuit.spec
    formula = expressions.elementary(circuit.formula)
    at = {circuit.symbols[name]: value for name, value in spec.values}
    direct = {}
    for wire in circuit.inputs:
        derivative = sp.diff(formula, circuit.symbols[wire]).subs(at)
        if derivative.has(sp.zoo, sp.nan, sp.oo):
            continue
        value = _number(derivative) if derivative.is_Rational else MP.mpf(str(sp.N(derivative, 70)))
        direct[wire] = value
        mine = circuit.gradients.get(wire, Fraction(0))
        if not _close(mine, value):
            raise GradientMismatch(f"d{circuit.output}/d{wire}: the backward sweep gives {mine}, SymPy's derivative "
                                   f"of the whole formula {value}")
    what = ("exactly" if all(is_exact(v) for v in direct.values()) else "to 45 significant digits")
    method = (f"every input's gradient equals SymPy's derivative of the whole formula {circuit.output}"
              f"({', '.join(circuit.inputs)}) at these numbers, {what}")
    return replace(circuit, verification=Verification(method, direct))
