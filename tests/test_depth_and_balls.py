"""Deep networks verify layer by layer; ball arithmetic certifies its digits; FLINT gives the same rationals."""

from __future__ import annotations

import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest

from derive.core import backprop, balls, flintpass, verify
from derive.core import functions as fn
from derive.core.derivation import ChainRuleMismatch
from derive.core.numeric import MP, evaluate
from derive.core.solve import solve
from derive.core.spec import parse
from derive.core.versions import load

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import randomnet  # noqa: E402
import specs  # noqa: E402


def _tampered(run, l, j, i, change):
    rows = [list(map(list, g)) if g else g for g in run.grad_W]
    rows[l][j][i] = change(rows[l][j][i])
    return replace(run, grad_W=tuple(tuple(map(tuple, g)) if g else g for g in rows), matrices=None)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_a_12_layer_network_verifies(activation):
    spec = parse(specs.deep_toml(12, activation, width=6), "deep.toml")
    solution = solve(spec)
    v = solution.verification
    assert v.total == spec.parameter_count and v.checked >= 2 * 13
    assert "layer by layer" in v.method and "not composed symbolically" in v.method


@pytest.mark.parametrize("activation, change", [
    ("relu", lambda g: g + Fraction(1, 10**40)),
    ("sigmoid", lambda g: g * (1 + MP.mpf("1e-26"))),
])
def test_the_layered_check_catches_a_wrong_gradient_deep_inside(activation, change):
    """An unsampled weight of layer 3 off by a tiny amount: the directions through layer 3 see it."""
    spec = parse(specs.deep_toml(8, activation), "deep.toml")
    rules = backprop.Rules.for_spec(spec)
    run = backprop.run(spec, rules)
    verify.check(spec, rules, run)
    with pytest.raises(ChainRuleMismatch, match="forward-mode"):
        verify.check(spec, rules, _tampered(run, 3, 5, 7, change))


def test_a_wrong_local_derivative_is_caught():
    spec = parse(specs.deep_toml(6, "sigmoid", width=4), "deep.toml")
    rules = backprop.Rules.for_spec(spec)
    run = backprop.run(spec, rules)
    bad = [list(map(list, layer)) if layer else layer for layer in run.dout_dnet]
    bad[4][0][2] *= 2
    with pytest.raises(ChainRuleMismatch, match="d out/d net"):
        verify.check(spec, rules, replace(run, dout_dnet=tuple(tuple(map(tuple, x)) if x else x for x in bad)))


def test_a_large_batch_is_checked_without_composing():
    spec = parse(specs.mazur_batch_toml(200), "batch.toml")
    assert solve(spec).verification.checked == spec.parameter_count


def _reference(spec, digits=200):
    """mpmath at 200 digits, written out independently: forward, deltas and gradients of a sigmoid net."""
    with mpmath.workdps(digits + 20):
        a = [[mpmath.mpf(x.numerator) / x.denominator for x in row] for row in spec.inputs]
        sig = lambda z: 1 / (1 + mpmath.exp(-z))  # noqa: E731
        W = [[[mpmath.mpf(w.numerator) / w.denominator for w in row] for row in layer] for layer in spec.weights]
        b = [[mpmath.mpf(x.numerator) / x.denominator for x in layer] for layer in spec.biases]
        outs = [a[0]]
        for l in range(spec.layers):
            outs.append([sig(sum(w * o for w, o in zip(row, outs[-1])) + bj) for row, bj in zip(W[l], b[l])])
        t = [mpmath.mpf(x.numerator) / x.denominator for x in spec.targets[0]]
        loss = sum((ti - oi) ** 2 for ti, oi in zip(t, outs[-1])) / 2  # half_sse
        delta = [(o - ti) * o * (1 - o) for o, ti in zip(outs[-1], t)]
        grads = [None] * spec.layers
        for l in range(spec.layers - 1, -1, -1):
            grads[l] = [[d * o for o in outs[l]] for d in delta]
            if l:
                delta = [sum(delta[k] * W[l][k][j] for k in range(len(delta))) * outs[l][j] * (1 - outs[l][j])
                         for j in range(len(outs[l]))]
        return outs, loss, grads


def _rounded(x, n):
    """x rounded half up to n significant digits, in certified()'s notation."""
    with mpmath.workdps(250):
        s = mpmath.nstr(x, n + 40, min_fixed=1, max_fixed=0)  # d.ddd...e+XX
        mantissa, exponent = s.split("e")
        sign = "-" if mantissa.startswith("-") else ""
        digits = mantissa.lstrip("-").replace(".", "")
        head, rest = int(digits[:n]), digits[n:]
        if rest and int(rest[0]) >= 5:
            head += 1
        text, exp = str(head), int(exponent)
        if len(text) > n:
            text, exp = text[:n], exp + 1
        return f"{sign}{text[0]}.{text[1:]}e{exp}"


def test_certified_digits_of_a_sigmoid_network_against_200_digit_mpmath():
    """Every digit certified() prints is the 200-digit reference's, rounded to as many digits."""
    spec = load("mazur")
    rules = backprop.Rules.for_spec(spec)
    made = balls.certified_run(spec, rules, (None, *spec.weights), (None, *spec.biases))
    outs, loss, grads = _reference(spec)
    pairs = [(made.loss, loss)]
    pairs += [(made.out[l][0][j], outs[l][j]) for l in (1, 2) for j in range(2)]
    pairs += [(made.grad_W[l + 1][j][i], grads[l][j][i]) for l in range(2) for j in range(2) for i in range(2)]
    for ball, reference in pairs:
        text = balls.certified(ball)
        assert len(text.split("e")[0].replace(".", "").lstrip("-")) == balls.DIGITS  # all 30 proven
        assert text == _rounded(reference, balls.DIGITS)
        with mpmath.workdps(80):  # the midpoint (60 digits handed on) lies within the radius of the truth
            radius = mpmath.mpf(ball.rad().str(10, radius=False))
            assert abs(mpmath.mpf(balls.to_mpf(ball)) - reference) <= radius + abs(reference) * mpmath.mpf(10) ** -58


def test_certified_shows_only_the_digits_a_wide_ball_proves():
    import flint

    wide = flint.arb("0.123456789") + flint.arb(0, 1e-6)
    assert balls.certified(wide) in ("1.2346e-1", "1.235e-1", "1.23e-1")
    assert balls.certified(flint.arb(0)) == "0"


@pytest.mark.parametrize("source", ["mlp-relu", "deep"])
def test_flint_gives_the_same_rationals_as_fractions(source, monkeypatch):
    spec = load(source) if source != "deep" else parse(specs.deep_toml(5, "relu"), "deep.toml")
    rules = backprop.Rules.for_spec(spec)
    fast = backprop.run(spec, rules)
    assert fast.matrices is not None
    monkeypatch.setattr(flintpass, "available", lambda: False)
    slow = backprop.run(spec, rules)
    for name in ("net", "out", "loss", "dE_dout", "dout_dnet", "delta", "grad_W", "grad_b", "new_weights",
                 "new_biases"):
        assert getattr(fast, name) == getattr(slow, name), name


def _random_spec(seed, **overrides):
    return parse(randomnet.spec_text(seed, steps=1, **overrides), f"random{seed}.toml")


@pytest.mark.parametrize("spec", [
    load("mazur"),
    _random_spec(1, sizes=[2, 3, 2], activations=["tanh", "sigmoid"], batch=2),
    _random_spec(2, sizes=[3, 2, 3], activations=["sigmoid", "softmax"], loss="cross_entropy", batch=1),
    _random_spec(3, sizes=[1, 2, 1, 2], activations=["relu", "tanh", "sigmoid"], batch=1),
], ids=["mazur", "tanh-sigmoid-batch2", "softmax-ce", "relu-3-layers"])
def test_the_proofs_derivatives_moved_by_a_swap_of_units_equal_sympys_own(spec):
    """The symbolic proof differentiates one weight and one bias per layer and moves the derivative to the
    others by swapping units; each moved one equals SymPy's derivative in that parameter, at random points."""
    import random

    import sympy as sp

    solution = solve(spec)
    graph = solution.derivation.graph
    directs, _ = verify.prove_structure(spec, solution.rules, graph)
    assert len(directs) == spec.parameter_count
    symbols = {key: graph.W(*key[1:]) if key[0] == "W" else graph.b(*key[1:3]) for key in verify.parameters(spec)}
    compose = verify._Composer(spec, solution.rules, None, graph, symbols)
    loss = sp.Rational(solution.rules.batch_weight.numerator, solution.rules.batch_weight.denominator) * sp.Add(*(
        solution.rules.loss_term.xreplace({fn.a: compose(
            graph.out(spec.layers, s, k)), fn.t: graph.t(s, k)})
        for s in range(spec.batch) for k in range(spec.sizes[-1])))
    rng = random.Random(3)
    point = {x: Fraction(rng.randint(1, 999), 1000) for x in loss.free_symbols}
    for key, direct in directs.items():
        own = sp.diff(loss, symbols[key])
        a, b = evaluate(direct, point, {}), evaluate(own, point, {})
        assert abs(a - b) <= abs(b) * Fraction(1, 10**40) + Fraction(1, 10**50), key


def test_an_asymmetric_loss_is_differentiated_parameter_by_parameter(monkeypatch):
    """When swapping units changes the loss, no derivative is moved: every one is SymPy's own."""
    spec = load("mazur")
    solution = solve(spec)
    calls = []
    real = verify.sp.diff
    # count the derivatives of the whole loss (the graph's own derivatives of one definition are small)
    monkeypatch.setattr(verify.sp, "diff", lambda e, x: (len(e.free_symbols) > 12 and calls.append(x)) or real(e, x))
    verify.prove_structure(spec, solution.rules, solution.derivation.graph)
    assert len(calls) == 4  # one weight and one bias of each of the two layers
    calls.clear()
    monkeypatch.setattr(verify, "_unit_swaps", lambda spec, graph: [[{}, {graph.t(0, 0): graph.W(2, 0, 0),
                                                                          graph.W(2, 0, 0): graph.t(0, 0)}]] * 3)
    verify.prove_structure(spec, solution.rules, solution.derivation.graph)
    assert len(calls) == spec.parameter_count


def _certified_cases():
    from derive.core.spec import preset_names

    presets = [load(name) for name in preset_names()]
    randoms = [_random_spec(seed, activations=acts, loss=loss, **extra) for seed, acts, loss, extra in (
        (11, ["sigmoid", "sigmoid"], "mse", {"sizes": [3, 3, 2]}),
        (12, ["tanh", "tanh", "sigmoid"], "bce", {"sizes": [2, 3, 2, 2]}),
        (13, ["tanh", "softmax"], "cross_entropy", {"sizes": [2, 4, 3]}),
        (14, ["sigmoid", "softmax"], "cross_entropy", {"sizes": [3, 2, 2], "batch": 3}),
    )]
    return presets + randoms


@pytest.mark.parametrize("spec", _certified_cases(), ids=lambda s: s.name)
def test_every_digit_a_document_prints_is_certified_by_the_balls_radius(spec):
    """The documents print a value's midpoint rounded to 1-30 digits (--digits); for the first step's every value
    (nets, outputs, losses, deltas, gradients, new parameters) each of those roundings is the ball's certified one."""
    from decimal import ROUND_HALF_UP, Decimal

    from derive.documents.printing import shown

    rules = backprop.Rules.for_spec(spec)
    made = balls.certified_run(spec, rules, (None, *spec.weights), (None, *spec.biases))
    values = [x for x in made.values() if not isinstance(x, Fraction)]
    for x in values:
        assert balls.decides(x)
        for n in (1, 2, 3, 6, 9, 12, 20, 25, 28, 29, 30):
            proven = balls.certified(x, n)
            mantissa = proven.split("e")[0].lstrip("-").replace(".", "")
            if proven == "?" or (proven != "0" and len(mantissa) < n):
                # a short decimal on a tie (a net input 0.3775 at 3 digits): all 30 digits proven are that
                # decimal, and it is printed rounded half away from zero, as an exact value is
                decimal = Decimal(balls.certified(x)).normalize()
                assert len(decimal.as_tuple().digits) == n + 1 and decimal.as_tuple().digits[-1] == 5, (x, n)
                proven = str(decimal.quantize(Decimal(1).scaleb(decimal.adjusted() - n + 1), rounding=ROUND_HALF_UP))
            printed = shown(balls.to_mpf(x), n).text
            assert Decimal(printed) == Decimal(proven), (x, n, printed, proven)
