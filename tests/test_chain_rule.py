"""Chain-rule derivatives against SymPy's direct derivative of the composed loss; exactness of values."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from randomnet import spec_text

from derive.core import backprop, functions, verify
from derive.core.derivation import ChainRuleMismatch
from derive.core.solve import solve
from derive.core.spec import parse
from derive.core.versions import load


def test_taught_identities_are_sympys_derivatives():
    assert functions.check_identities() == {name: True for name in functions.ACTIVATIONS}


@pytest.mark.parametrize("seed", range(30, 42))
def test_every_derivative_equals_the_direct_derivative(seed):
    spec = parse(spec_text(seed), "r.toml")
    rules = backprop.Rules.for_spec(spec)
    run = backprop.run(spec, rules)
    checked = verify.check(spec, rules, run, every_parameter=True)
    assert checked.checked == spec.parameter_count


@pytest.mark.parametrize("seed, activations, loss", [
    (50, ["sigmoid", "softmax"], "mse"),
    (51, ["relu", "tanh", "softmax"], "half_sse"),
    (52, ["tanh", "identity"], "cross_entropy"),
    (53, ["leaky_relu", "sigmoid", "softmax"], "cross_entropy"),
])
def test_softmax_derivatives_equal_the_direct_derivative(seed, activations, loss):
    """The softmax Jacobian couples the outputs: every derivative still equals the direct one."""
    spec = parse(spec_text(seed, depth=len(activations) - 1, activations=activations, loss=loss, out=3,
                           one_hot=seed % 2 == 0), "r.toml")
    rules = backprop.Rules.for_spec(spec)
    run = backprop.run(spec, rules)
    assert verify.check(spec, rules, run, every_parameter=True).checked == spec.parameter_count


@pytest.mark.parametrize("sizes, activations, loss", [
    ([2, 2, 2], ["sigmoid", "sigmoid"], None),
    ([1, 2, 1], ["relu", "identity"], None),
    ([2, 1, 1, 1], ["tanh", "relu", "sigmoid"], None),
    ([2, 1, 3], ["sigmoid", "softmax"], "mse"),
    ([1, 2, 2], ["tanh", "identity"], "cross_entropy"),
])
def test_small_networks_are_checked_symbolically(sizes, activations, loss):
    spec = parse(spec_text(7, sizes=sizes, activations=activations, batch=2, **({"loss": loss} if loss else {})),
                 "r.toml")
    solution = solve(spec)
    assert solution.verification.symbolic == spec.parameter_count


def test_softmax_with_cross_entropy_reduces_to_out_minus_target():
    """SymPy reduces the sum over the Jacobian to out_j - t_j (the targets sum to 1), checked by value."""
    spec = parse(spec_text(8, sizes=[2, 2, 3], activations=["sigmoid", "identity"], loss="cross_entropy",
                           batch=1), "r.toml")
    solution = solve(spec)
    g = solution.graph
    for j in range(3):
        unit = solution.derivation.unit(2, 0, j)
        assert len(unit.coupling) == 3
        assert unit.simplified[-1] == g.out(2, 0, j) - g.t(0, j)
        # the cancelled form a hand writes first is the sum over the Jacobian, as functions of every symbol
        full = sum(c.dE_dout.general * c.dout_dnet.general for c in unit.coupling)
        assert sp.simplify(unit.simplified[0] - full) == 0
        run = solution.first
        assert float(unit.delta.value) == pytest.approx(float(run.out[2][0][j] - spec.targets[0][j]), abs=1e-15)


def test_a_wrong_gradient_is_caught():
    """The oracle can fail: a gradient off by one part in 1e12 is an error, never silent."""
    spec = load("mazur")
    rules = backprop.Rules.for_spec(spec)
    run = backprop.run(spec, rules)
    bad = list(run.grad_W)
    bad[2] = ((run.grad_W[2][0][0] * (1 + mpmath.mpf("1e-12")), run.grad_W[2][0][1]), run.grad_W[2][1])
    with pytest.raises(ChainRuleMismatch, match="direct derivative"):
        verify.check(spec, rules, replace(run, grad_W=tuple(bad)))


def test_a_wrong_factor_is_caught():
    """Each factor is recomputed from its formula: a tampered sweep value is reported."""
    solution = solve("mazur")
    run = solution.first
    tampered = replace(run, dout_dnet=(run.dout_dnet[0], run.dout_dnet[1],
                                       ((run.dout_dnet[2][0][0] * 2, run.dout_dnet[2][0][1]),)))
    from derive.core.derivation import Derivation

    d = Derivation(solution.graph, tampered, solution.rules.lift(solution.spec.targets))
    with pytest.raises(ChainRuleMismatch):
        d.unit(2, 0, 0)


def test_rational_networks_stay_exact():
    solution = solve("mlp-relu")
    run = solution.first
    values = [run.loss, *run.grad_W[1][0], *run.new_weights[2][0], *run.grad_b[1]]
    assert all(isinstance(v, Fraction) for v in values)
    # 5.7385 is printed; the exact loss has every digit
    assert run.loss == (run.out[2][0][0] - Fraction("-5.7345")) ** 2


def test_sigmoid_values_carry_more_than_30_digits():
    solution = solve("mazur")
    with mpmath.workdps(100):
        expected = 1 / (1 + mpmath.exp(-mpmath.mpf(3775) / 10000))
        assert abs(mpmath.mpf(solution.first.out[1][0][0]) - expected) < mpmath.mpf(10) ** -55


def test_relu_derivative_at_zero_is_zero_as_in_pytorch():
    text = spec_text(3, sizes=[1, 1, 1], activations=["relu", "identity"], batch=1)
    spec = parse(text, "r.toml")
    # make the hidden net input exactly 0: w * x + b = 0
    spec = replace(spec, weights=((((Fraction(1),),), *spec.weights[1:])), biases=((-spec.inputs[0][0],), *spec.biases[1:]))
    solution = solve(spec)
    assert solution.first.net[1][0][0] == 0
    assert solution.first.dout_dnet[1][0][0] == 0
    assert solution.first.grad_W[1][0][0] == 0
