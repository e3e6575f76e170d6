"""Circuits of gates: the textbook figures, SymPy's and PyTorch's derivatives of random formulas, hostile formulas."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
import sympy as sp

from derive.cli import main
from derive.core import circuit, circuit_spec, expressions
from derive.documents import circuit_diagram, circuit_document, circuit_slides
from derive.documents.model import Chain
from derive.errors import DeriveError
from derive.core.numeric import to_float


def solved(name, composite=None):
    return circuit.solve(circuit_spec.load(name, composite=composite))


def spec_text(formulas: dict, values: dict, extra: str = "") -> circuit_spec.CircuitSpec:
    lines = ["[expression]"] + [f'{k} = "{v}"' for k, v in formulas.items()]
    lines += ["[values]"] + [f"{k} = {v}" for k, v in values.items()]
    return circuit_spec.parse("\n".join(lines) + "\n" + extra, "c.toml")


# ---------------------------------------------------------------- the textbook figures

def test_add_multiply_circuit_is_the_textbook_figure():
    c = solved("circuit-add-mul")
    assert c.values["q"] == 3 and c.values["f"] == -12
    assert {w: c.gradients[w] for w in ("q", "x", "y", "z")} == {"q": -4, "x": -4, "y": -4, "z": 3}
    assert all(isinstance(v, Fraction) for v in c.gradients.values())  # exact


CS231N = {"w0": -0.19661193, "x0": 0.39322387, "w1": -0.39322387, "x1": -0.58983580, "w2": 0.19661193}


@pytest.mark.parametrize("composite", ["as-written", "whole", "split"])
def test_sigmoid_neuron_is_the_textbook_figure(composite):
    c = solved("circuit-sigmoid-neuron", composite)
    assert round(to_float(c.values["f"]), 2) == 0.73
    for wire, value in CS231N.items():
        assert to_float(c.gradients[wire]) == pytest.approx(value, abs=1e-8)
    kinds = [g.kind for g in c.gates]
    assert kinds == (["mul", "mul", "add", "add", "sigmoid"] if composite == "whole"
                     else ["mul", "mul", "add", "add", "neg", "exp", "addc", "recip"])
    # the sigmoid gate's local gradient is sigma (1 - sigma), from its output alone
    exact = 1 / (1 + sp.exp(-1))
    assert abs(to_float(c.gradients["w2"]) - float(exact * (1 - exact))) < 1e-15


def test_fan_out_sums_and_max_routes():
    c = solved("circuit-fan-out")  # f = (x*y + max(x, z)) * w at x=3, y=-4, z=2, w=-2
    parts = sorted(p.value for p in c.contributions["x"])
    assert parts == [-2, 8] and c.gradients["x"] == 6
    assert c.gradients["z"] == 0  # max routes to the larger input only
    assert c.gradients["w"] == -9 and c.values["f"] == 18


def test_sigmoid_written_as_function_splits():
    spec = spec_text({"f": "sigmoid(a*b)"}, {"a": 0.5, "b": -2}, '[circuit]\ncomposite = "split"\n')
    assert [g.kind for g in circuit.solve(spec).gates] == ["mul", "neg", "exp", "addc", "recip"]
    whole = circuit.solve(spec_text({"f": "sigmoid(a*b)"}, {"a": 0.5, "b": -2}))
    assert [g.kind for g in whole.gates] == ["mul", "sigmoid"]
    assert abs(to_float(whole.gradients["a"]) - to_float(circuit.solve(spec).gradients["a"])) < 1e-15


def test_named_intermediate_that_fans_out():
    c = circuit.solve(spec_text({"q": "x + y", "f": "q * q + z"}, {"x": 1, "y": 2, "z": 5}))
    assert c.gradients["q"] == 6 and c.gradients["x"] == 6 and len(c.contributions["q"]) == 2


# ---------------------------------------------------------------- random formulas: SymPy and PyTorch

OPS = ["add", "sub", "mul", "div1", "exp", "sigmoid", "tanh", "sin", "cos", "max", "min", "relu", "sq", "neg"]


def random_formula(rng: random.Random, depth: int, names) -> str:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(names)
    op = rng.choice(OPS)
    a = random_formula(rng, depth - 1, names)
    b = random_formula(rng, depth - 1, names)
    return {"add": f"({a} + {b})", "sub": f"({a} - {b})", "mul": f"({a} * {b})", "div1": f"({a} / (1 + {b}^2))",
            "exp": f"exp({a} / 4)", "sigmoid": f"sigmoid({a})", "tanh": f"tanh({a})", "sin": f"sin({a})",
            "cos": f"cos({a})", "max": f"max({a}, {b})", "min": f"min({a}, {b})", "relu": f"relu({a})",
            "sq": f"{a}^2", "neg": f"-{a}"}[op]


def torch_gradients(text: str, values: dict) -> dict:
    torch = pytest.importorskip("torch")
    leaves = {k: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    functions = {"exp": torch.exp, "ln": torch.log, "sqrt": torch.sqrt, "sin": torch.sin, "cos": torch.cos,
                 "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu, "abs": torch.abs,
                 "max": torch.maximum, "min": torch.minimum}

    def run(node):  # the tree, not Python's eval of the text
        op, args = node.op, [run(a) for a in node.args]
        if op in ("num", "const"):
            return torch.tensor(float(node.value), dtype=torch.float64)
        if op == "name":
            return leaves[node.name]
        binary = {"add": lambda: args[0] + args[1], "sub": lambda: args[0] - args[1], "mul": lambda: args[0] * args[1],
                  "div": lambda: args[0] / args[1], "pow": lambda: args[0] ** args[1], "neg": lambda: -args[0]}
        return binary[op]() if op in binary else functions[op](*args)

    run(expressions.tree(text)).backward()
    return {k: (t.grad.item() if t.grad is not None else 0.0) for k, t in leaves.items()}


@pytest.mark.parametrize("seed", range(40))
def test_random_formulas_agree_with_sympy_and_torch(seed):
    rng = random.Random(seed)
    names = ["x", "y", "z"]
    text = random_formula(rng, 4, names)
    used = sorted(expressions.tree(text).names())
    values = {n: Fraction(rng.randint(-8, 8), 4) for n in used}
    try:
        c = circuit.solve(spec_text({"f": text}, {n: float(v) for n, v in values.items()}))  # compares every gradient with SymPy's derivative of the whole formula
    except DeriveError:
        pytest.skip("a bare name, or no derivative at these numbers")
    assert set(c.verification.gradients) == set(used)
    oracle = torch_gradients(text, values)
    for name in used:
        assert to_float(c.gradients[name]) == pytest.approx(oracle[name], rel=1e-9, abs=1e-12), (text, name)


def test_a_wrong_local_gradient_is_caught(monkeypatch):
    original = circuit.local_values
    monkeypatch.setattr(circuit, "local_values",
                        lambda g, *a: tuple(-v for v in original(g, *a)) if g.kind == "mul" else original(g, *a))
    with pytest.raises(circuit.GradientMismatch):
        solved("circuit-add-mul")


# ---------------------------------------------------------------- the parser refuses hostile text, with the column

HOSTILE = [
    ("__import__('os')", 12, "quotes"),
    ("__import__(os)", 1, "unknown function"),
    ("x.__class__", 1, "attribute access"),
    ("(lambda: 1)()", 2, "only the functions"),
    ("lambda: x", 1, "lambda"),
    ("10^10^10", 3, "too large"),
    ("2 ** 10 ** 10", 3, "too large"),
    ("x^100000", 2, "exponent"),
    ("(" * 10_000 + "x" + ")" * 10_000, 61, "nested"),
    ("-" * 10_000 + "x", 61, "signs in a row"),
    ("x + " * 400 + "x", 1001, "longer than"),
    ("x[0]", 2, "'['"),
    ("x if y else x", 1, "if"),
    ("open(x)", 1, "unknown function"),
    ("exp(x, y)", 1, "1 argument"),
    ("max(x)", 1, "at least 2"),
    ("x // y", 3, "'//'"),
    ("x == y", 1, "comparisons"),
    ("x y", 3, "not a formula"),
    ("(x + y", 1, "never closed"),
    ("1e999 * x", 1, "too large"),
    ("3j * x", 1, "imaginary"),
    ("q + x", 1, "unknown name 'q'"),
    ("x +", 4, "ends where"),
]


@pytest.mark.parametrize("text, column, words", HOSTILE, ids=[h[0][:20] for h in HOSTILE])
def test_hostile_formulas_give_one_clear_error_with_the_column(text, column, words):
    with pytest.raises(expressions.ExpressionError) as caught:
        expressions.parse(text, {"x": sp.Symbol("x"), "y": sp.Symbol("y")}, "c.toml", "expression.f")
    message = str(caught.value)
    assert message.startswith("c.toml: expression.f: column ") and words in message, message
    assert caught.value.column == column, message
    assert "\n" not in message


@pytest.mark.parametrize("text, value", [
    ("1 + sin(pi/4)", 1 + sp.sqrt(2) / 2), ("0.15", sp.Rational(3, 20)), ("2^-2", sp.Rational(1, 4)),
    ("-3^2", -9), ("sigmoid(0)", sp.Rational(1, 2)), ("max(1, 2, 3/2)", 2), ("ln(e^2)", 2), ("relu(-1)", 0),
    ("sqrt(16/9)", sp.Rational(4, 3)), ("abs(-0.5)", sp.Rational(1, 2)),
])
def test_constants_are_exact(text, value):
    assert sp.simplify(expressions.constant(text) - value) == 0


@pytest.mark.parametrize("text", ["x", "ln(-1)", "1/0"])
def test_constant_refuses_names_and_undefined(text):
    with pytest.raises(DeriveError):
        expressions.constant(text, "n.toml", "parameters.b1")


# ---------------------------------------------------------------- specs, documents, command line

@pytest.mark.parametrize("formulas, values, words", [
    ({"f": "x"}, {"x": 1}, "only repeats"),
    ({"f": "1 + 2"}, {"x": 1}, "reads no input"),
    ({"f": "x * y"}, {"x": 1}, "unknown name 'y'"),
    ({"x": "y + 1"}, {"x": 1, "y": 2}, "already"),
    ({"exp": "x + 1"}, {"x": 1}, "function or constant"),
    ({"f": "ln(x)"}, {"x": -1}, "no value"),
    ({"f": "x / y"}, {"x": 1, "y": 0}, "no value"),
    ({"f": "x + 1"}, {"x": 1, "w": 2}, "not read by any formula"),
])
def test_bad_formula_specs(formulas, values, words):
    with pytest.raises(DeriveError) as caught:
        circuit.solve(spec_text(formulas, values))
    assert words in str(caught.value) and str(caught.value).startswith("c.toml")


@pytest.mark.parametrize("name", circuit_spec.circuit_preset_names())
@pytest.mark.parametrize("composite", ["as-written", "whole", "split"])
def test_diagram_labels_do_not_overlap(name, composite):
    c = solved(name, composite)
    assert circuit_diagram.overlaps(circuit_diagram.build(c)) == []


def test_document_tells_each_pattern_once():
    c = solved("circuit-fan-out")
    text = repr(circuit_document.build(c))
    assert text.count("The add gate passes the upstream gradient -2 unchanged to both inputs") == 1
    assert text.count("The multiply gate swaps its inputs") == 1
    assert "The max gate routes the gradient: the larger input, x," in text
    assert "gradients coming back along its branches are summed" in text


@pytest.mark.parametrize("name", ["circuit-sigmoid-neuron", "circuit-fan-out", "circuit-add-mul"])
def test_slides_continue_a_gate_below_the_same_diagram(name):
    """A backward frame holds what fits below the diagram (circuit_slides._lines_below); a gate's rows go on over
    "(continued)" frames under the same diagram, each input's derivation whole, every row of the gate kept, and no
    frame that is only a sentence."""
    c = solved(name)
    frames = circuit_slides.deck(c).frames
    p = circuit_document._Printer(c, 6)
    for gate in c.gates:
        title = f"Backward: gate {gate.index} ({gate.label.replace('*', '×')})"
        mine = [f for f in frames if f.title.startswith(title)]
        assert [f.title for f in mine] == [title] + [f"{title} (continued)"] * (len(mine) - 1)
        assert len({id(f.figure) for f in mine}) == 1
        rows = [b.rows for f in mine for b in f.blocks if isinstance(b, Chain)]
        for slot in range(len(gate.inputs)):
            assert tuple(circuit_document.input_rows(c, p, gate, slot)) in rows
        for f in mine:
            derivations = sum(isinstance(b, Chain) for b in f.blocks)  # one with its sentences is never parted
            assert sum(circuit_slides._lines(b) for b in f.blocks) <= circuit_slides._lines_below(f.figure) or derivations == 1
            assert derivations >= 1
    assert sum("(continued)" in f.title for f in frames) >= 2


def test_cli_solves_a_circuit_and_refuses_a_bad_one(tmp_path, capsys):
    assert main(["solve", "circuit-add-mul", "--format", "md,json", "--out", str(tmp_path / "c")]) == 0
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["circuit.svg", "solution.json", "solution.md"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[expression]\nf = "__import__(\'os\').system(\'true\')"\n[values]\nx = 1\n')
    assert main(["solve", str(bad), "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expression.f: column" in err and not (tmp_path / "bad").exists()
