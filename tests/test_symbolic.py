"""The derivation in general form: rules proved step by step, general formulas equal to the numbers, the four
equations against SymPy's direct derivative of the composed loss, and the documents that print them."""

from __future__ import annotations

import random
from dataclasses import replace

import mpmath
import pytest
import sympy as sp
from randomnet import spec_text

from derive.cli import main
from derive.core import equations as eq
from derive.core import functions as fn
from derive.core import rules
from derive.core.derivation import _same
from derive.core.general import General
from derive.core.numeric import evaluate, to_mp
from derive.core.solve import solve
from derive.core.spec import parse
from derive.errors import DeriveError
from derive.documents.layout import broken, width
from derive.documents.model import Chain
from derive.documents.options import Options
from derive.documents.printing import shown
from derive.documents.symbolic import build
from derive.documents.symbolic_slides import FRAME_WIDTH
from derive.documents.symbolic_slides import deck as symbolic_deck
from derive.formats.render import render

ACTIVATIONS = [*fn.ACTIVATIONS, "leaky_relu(0.2)"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_each_activation_is_derived_step_by_step_and_every_step_is_proved(name):
    assert rules.prove(rules.activation(name))


@pytest.mark.parametrize("name", sorted(fn.LOSSES))
def test_each_loss_term_is_derived_step_by_step_and_every_step_is_proved(name):
    assert rules.prove(rules.loss(name))


@pytest.mark.parametrize("name, wrong", [
    ("sigmoid", rules.x * (1 - rules.x)),  # the identity taken at x, not at sigma(x)
    ("tanh", 1 - rules.x ** 2),
])
def test_a_wrong_step_is_refused(name, wrong):
    d = rules.activation(name)
    bad = replace(d, steps=(*d.steps[:-1], replace(d.steps[-1], expr=wrong)))
    assert not rules.prove(bad)


def test_unknown_names_are_errors_not_another_entry():
    with pytest.raises(KeyError):
        rules.activation("swish")
    with pytest.raises(KeyError):
        rules.loss("hinge")


def _check_general(solution):
    """Every general formula, with the pass's numbers put in, gives the value the backward sweep computed."""
    g, run = solution.graph, solution.first
    G = General(g)
    values = solution.derivation.values
    spec = solution.spec
    for l in range(1, spec.layers + 1):
        for s in range(spec.batch):
            for j in range(spec.sizes[l]):
                assert _same(evaluate(G.delta(l, s, j), values), run.delta[l][s][j]), ("delta", l, s, j)
                assert _same(evaluate(G.dE_dout(l, s, j), values), run.dE_dout[l][s][j]), ("dE/dout", l, s, j)
        for j in range(spec.sizes[l]):
            for i in range(spec.sizes[l - 1]):
                assert _same(evaluate(G.gradient("W", l, j, i), values), run.grad_W[l][j][i]), ("W", l, j, i)
            assert _same(evaluate(G.gradient("b", l, j), values), run.grad_b[l][j]), ("b", l, j)


@pytest.mark.parametrize("preset", ["mazur", "mazur-torch", "softmax-ce"])
def test_general_formulas_with_the_numbers_put_in_equal_the_presets_values(preset):
    _check_general(solve(preset))


@pytest.mark.parametrize("seed", range(8))
def test_general_formulas_with_the_numbers_put_in_equal_random_networks_values(seed):
    rng = random.Random(seed)
    depth = rng.randint(1, 2)
    sizes = [rng.randint(1, 3) for _ in range(depth + 1)] + [rng.randint(1, 3)]
    _check_general(solve(parse(spec_text(seed, sizes=sizes, batch=rng.randint(1, 2)), "r.toml")))


@pytest.mark.parametrize("activations, loss, out", [
    (["sigmoid", "sigmoid"], "bce", 2),
    (["tanh", "softmax"], "cross_entropy", 3),
])
def test_reduced_output_deltas_equal_the_values(activations, loss, out):
    spec = parse(spec_text(11, sizes=[2, 2, out], activations=activations, loss=loss, out=out), "r.toml")
    solution = solve(spec)
    G = General(solution.graph)
    g = solution.graph
    for j in range(out):
        reduced = G.simplification(2, 0, j)
        assert reduced is not None
        # the textbook forms: out - t, or (out - t)/K for the mean of the binary cross-entropy
        error = g.out(2, 0, j) - g.t(0, j)
        K = out if loss == "bce" else 1
        assert sp.simplify(reduced.reduced - error / K) == 0
    _check_general(solution)


def test_the_entry_derivatives_are_sympys():
    assert eq.net_by_input().result == eq.W[eq.k, eq.j]
    assert eq.net_by_weight().result == sp.KroneckerDelta(eq.j, eq.k) * eq.A[eq.m]
    assert eq.net_by_bias().result == sp.KroneckerDelta(eq.j, eq.k)
    assert eq.softmax_cross_entropy()[-1] == eq.A[eq.j] - eq.T[eq.j]


@pytest.mark.parametrize("output, loss, reduced", [
    ("sigmoid", "half_sse", None),
    ("sigmoid", "bce", (fn.a - fn.t) / fn.K),
    ("softmax", "cross_entropy", fn.a - fn.t),
    ("tanh", "mse", None),
])
def test_output_delta_specialised(output, loss, reduced):
    spec = parse(spec_text(5, sizes=[2, 2, 3], activations=["sigmoid", output], loss=loss, out=3), "r.toml")
    form = eq.output_delta(spec)
    if reduced is None:
        assert form.reduced is None
    else:
        assert sp.simplify(form.reduced - reduced) == 0


def _composed_check(spec):
    """The four equations' gradients against SymPy's derivative of the composed loss, parameters as symbols.

    Both are evaluated with 50-digit numbers (mpmath) at the spec's parameters and must agree to 30 digits;
    the equations' values must also be derive's own.
    """
    L = spec.layers
    Ws = [sp.Matrix(spec.sizes[l + 1], spec.sizes[l], lambda r, c, l=l: sp.Symbol(f"W{l}_{r}_{c}", real=True))
          for l in range(L)]
    bs = [sp.Matrix(spec.sizes[l + 1], 1, lambda r, c, l=l: sp.Symbol(f"b{l}_{r}", real=True)) for l in range(L)]
    point = {}
    for l in range(L):
        numbers = sp.Matrix(spec.weights[l]) if spec.weight_layout == "out_in" else sp.Matrix(spec.weights[l]).T
        for r in range(spec.sizes[l + 1]):
            for c in range(spec.sizes[l]):
                point[Ws[l][r, c]] = sp.Float(sp.Rational(numbers[r, c]), 50)
            point[bs[l][r, 0]] = sp.Float(sp.Rational(spec.biases[l][r]), 50)
    inputs = [[sp.Float(sp.Rational(v), 50) for v in row] for row in spec.inputs]
    targets = [[sp.Float(sp.Rational(v), 50) for v in row] for row in spec.targets]
    loss = eq.composed_loss(spec, Ws, bs, inputs, targets)
    grad_W, grad_b = eq.apply(spec, [w.xreplace(point) for w in Ws], [b.xreplace(point) for b in bs], inputs, targets)
    symbols = sorted(point, key=str)
    solution = solve(spec)
    with mpmath.workdps(50):
        at = [mpmath.mpf(str(point[s])) for s in symbols]
        for l in range(L):
            for r in range(spec.sizes[l + 1]):
                for c in range(spec.sizes[l]):
                    direct = sp.lambdify(symbols, sp.diff(loss, Ws[l][r, c]), "mpmath")(*at)
                    ours = mpmath.mpf(str(sp.N(grad_W[l][r, c], 50)))
                    assert abs(direct - ours) <= mpmath.mpf("1e-30") * (1 + abs(direct)), (l, r, c)
                    swept = to_mp(solution.first.grad_W[l + 1][r][c])
                    assert abs(ours - swept) <= mpmath.mpf("1e-30") * (1 + abs(ours)), (l, r, c)
                direct = sp.lambdify(symbols, sp.diff(loss, bs[l][r, 0]), "mpmath")(*at)
                ours = mpmath.mpf(str(sp.N(grad_b[l][r, 0], 50)))
                assert abs(direct - ours) <= mpmath.mpf("1e-30") * (1 + abs(direct)), (l, r)


@pytest.mark.parametrize("activations, loss", [
    (["sigmoid", "tanh", "sigmoid", "sigmoid"], "half_sse"),
    (["tanh", "relu", "sigmoid", "softmax"], "cross_entropy"),
    (["sigmoid", "sigmoid", "tanh", "sigmoid"], "bce"),
])
def test_the_four_equations_for_a_four_layer_network_equal_the_direct_derivative(activations, loss):
    text = spec_text(21, sizes=[2, 2, 2, 2, 2], activations=activations, loss=loss, out=2, batch=1,
                     layout="out_in")
    spec = parse(text, "r.toml")
    eq.check(solve(spec).graph)
    _composed_check(spec)


@pytest.mark.parametrize("seed", range(4))
def test_the_entry_derivatives_hold_on_random_networks(seed):
    eq.check(solve(parse(spec_text(seed), "r.toml")).graph)


def test_the_general_document_has_no_numbers_and_the_blog_formula():
    md = render("md/solution.md.j2", doc=build(solve("mazur")))
    for number in ("0.15", "0.05", "0.593269992", "0.082167041"):
        assert number not in md
    # dE/dw5 = (out_o1 - t_o1) out_o1 (1 - out_o1) out_h1, factor by factor
    assert (r"\left(\mathrm{out}_{o_{1}} - t_{o_{1}}\right) \cdot \mathrm{out}_{o_{1}} \left(1 - \mathrm{out}_{o_{1}}\right)"
            r" \cdot \mathrm{out}_{h_{1}}") in md
    assert r"\sigma(x) \left(1 - \sigma(x)\right)" in md  # the identity, derived once
    assert md.count(r"\left(1 + e^{-x}\right)^{-2}") == 1
    assert r"\boldsymbol{\delta}^{[1]} &= \left((W^{[2]})^{\top} \boldsymbol{\delta}^{[2]}\right)" in md


def test_then_numbers_ends_each_formula_with_its_numbers():
    solution = solve("mazur")
    md = render("md/solution.md.j2", doc=build(solution, Options(symbolic="then-numbers")))
    for value in (solution.first.grad_W[2][0][0], solution.first.grad_W[1][0][0]):  # dE/dw5 and dE/dw1
        assert rf"&\approx {shown(value, 9).latex}" in md
    assert "0.0821670406" in md  # the blog's 0.082167041, to one more digit


def test_the_matrix_notation_writes_the_vector_form():
    md = render("md/solution.md.j2", doc=build(solve("mazur", notation="matrix")))
    assert "Backward pass" not in md and "four equations" in md


@pytest.mark.parametrize("notation, convention", [("units", None), ("layered", None), ("matrix", None),
                                                  (None, "han"), (None, "nielsen")])
def test_both_forms_in_every_notation_and_convention(notation, convention):
    solution = solve("mazur", notation=notation, convention=convention)
    general = render("md/solution.md.j2", doc=build(solution))
    numbers = render("md/solution.md.j2", doc=build(solution, Options(symbolic="then-numbers")))
    assert "0.593269992" not in general
    if notation != "matrix":
        assert "0.593269992" in numbers  # out_h1 of the blog, put into the formulas after them
        assert shown(solution.first.grad_W[2][0][0], 9).latex in numbers


@pytest.mark.parametrize("seed", range(4))
def test_documents_of_random_networks(seed):
    spec = parse(spec_text(seed, batch=2 if seed % 2 else 1), "r.toml")
    solution = solve(spec)
    for mode in ("general", "then-numbers"):
        tex = render("tex/solution.tex.j2", doc=build(solution, Options(symbolic=mode)))
        assert r"\boldsymbol{\delta}" in tex


def test_symbolic_slides(tmp_path):
    slides = symbolic_deck(solve("mazur"))
    titles = [f.title for f in slides.frames]
    assert titles[:2] == ["A step-by-step backpropagation example", "The network"]
    assert any("four equations" in t for t in titles)
    assert main(["slides", "mazur", "--symbolic", "--format", "revealjs", "--out", str(tmp_path)]) == 0
    assert "0.593269992" not in (tmp_path / "slides.html").read_text()


@pytest.mark.parametrize("formula, room, lines", [
    (r"a + b", 10, [r"a + b"]),  # it fits
    # at + and − first; a sign that opens the formula or follows a relation is no place to break
    (r"a + b - c", 3, ["a", "+ b", "- c"]),
    (r"-a + b", 4, ["-a", "+ b"]),
    (r"a = -b + c", 6, ["a = -b", "+ c"]),
    (r"x_{i + 1} + y", 6, ["x_{i + 1}", "+ y"]),  # not inside an index
    # then at a product's dot, or between parenthesised factors side by side (the break marked with a dot)
    (r"\left(a + b\right) \cdot c", 8, [r"\left(a + b\right)", r"\cdot c"]),
    (r"\left(a + b\right) \left(c - d\right)", 8, [r"\left(a + b\right)", r"\cdot \left(c - d\right)"]),
    # then inside the parentheses that open it: as tall as a line, or as a fraction inside; {} keeps + binary
    (r"\left(aaaa + bbbb\right)", 7, ["( aaaa", "{} + bbbb )"]),
    (r"\left(\frac{a}{b} + c\right)", 3, [r"\left( \frac{a}{b} \right.", r"\left. {} + c \right)"]),
    (r"\left(a + b + c\right)^{2}", 5, ["( a", "{} + b", "{} + c )^{2}"]),
    # a rule's words stay whole: after the formula, or on a row of their own when the row is full
    (r"x + y \quad \text{r}", 8, [r"x + y \quad \text{r}"]),
    (r"x + y \quad \text{rule}", 8, [r"x + y", r"\quad \text{rule}"]),
])
def test_a_long_formula_is_broken_as_a_typesetter_breaks_it(formula, room, lines):
    assert broken(formula, room) == lines


def test_general_slides_break_long_rows_within_the_frame():
    """The blog's gradient of w1 in general form is wider than a frame: broken at its product's dot, aligned under
    the formula, every row no wider than the frame (as layout.width counts), no symbol lost."""
    slides = symbolic_deck(solve("mazur"))
    rows = [row for f in slides.frames for b in f.blocks if isinstance(b, Chain) for row in b.rows]
    assert all(width(row[0]) + width(row[2]) <= FRAME_WIDTH for row in rows)
    k = next(k for k, row in enumerate(rows) if row[0] == r"\frac{\partial E_{\mathrm{total}}}{\partial w_{1}}")
    assert rows[k + 2][:2] == ("", "") and rows[k + 2][2].startswith(r"\quad {} \cdot \mathrm{out}_{h_{1}}")
    chains = [c for section in build(solve("mazur")).sections for c in _walk(section)]
    whole = next(c for c in chains if c.rows[0][0] == rows[k][0]).rows[-1]
    pieces = " ".join(row[2] for row in rows[k + 1:k + 3]).replace(r"\quad {}", "")
    assert pieces.split() == whole[2].split()


def _walk(block):
    """The derivations in a block and its subsections."""
    if isinstance(block, Chain):
        yield block
    for inner in getattr(block, "blocks", ()):
        yield from _walk(inner)


def test_symbolic_is_an_option_of_the_solution_formats(tmp_path):
    """--symbolic goes through the Options and the registry of output formats: the same document, and a bad mode,
    a circuit or the JSON as the worked solution handles them."""
    assert main(["solve", "mazur", "--symbolic", "then-numbers", "--format", "md,json", "--out", str(tmp_path)]) == 0
    solution = solve("mazur")
    assert (tmp_path / "solution.md").read_text() == render("md/solution.md.j2",
                                                            doc=build(solution, Options(symbolic="then-numbers")))
    assert '"loss"' in (tmp_path / "solution.json").read_text()
    with pytest.raises(DeriveError, match="--symbolic"):
        Options(symbolic="numbers")
    assert main(["solve", "mazur", "--symbolic", "--as-circuit", "--out", str(tmp_path / "c")]) == 2
