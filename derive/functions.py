"""Registries of activations and losses: SymPy definitions, taught derivative identities, LaTeX.

Every function is defined once as a SymPy expression in a placeholder symbol. The
derivative used in the worked solution is the identity a lecturer teaches
(sigma' = out (1 - out)); :func:`check_identities` proves each identity equal to
SymPy's own derivative of the definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from fractions import Fraction

import sympy as sp

#: placeholders the templates are written in; instantiated per unit with xreplace
z = sp.Symbol("z", real=True)  # net input of a unit
a = sp.Symbol("a", real=True)  # its output (activation)
t = sp.Symbol("t", real=True)  # its target
K = sp.Symbol("K", positive=True, integer=True)  # outputs per sample


@dataclass(frozen=True)
class Activation:
    """An elementwise activation function and the derivative identity it is taught with."""

    name: str
    definition: sp.Expr  # in z
    identity: sp.Expr  # da/dz written in a (and z where needed)
    latex: str  # how f(net) is written, with {0} for the argument
    derivative_latex: str  # how f'(net) is written, with {0} for the argument
    rational: bool  # maps rationals to rationals, so values stay exact

    def derivative(self) -> sp.Expr:
        """SymPy's own derivative of the definition, in z."""
        return sp.diff(self.definition, z)


@dataclass(frozen=True)
class Loss:
    """A loss as a sum of per-output terms, reduced within a sample and over the batch."""

    name: str
    term: sp.Expr  # one output's contribution before the reductions, in a and t
    output_reduction: str  # "sum" or "mean" over the K outputs of one sample
    batch_reduction: str  # "sum" or "mean" over the N samples
    latex: str  # the formula of the loss, for the document
    description: str
    rational: bool


_relu = sp.Piecewise((z, z > 0), (0, True))

#: ``leaky_relu`` or ``leaky_relu(0.2)``: the slope for negative inputs, as decimal text (never evaluated)
_LEAKY = re.compile(r"^leaky_relu(?:\((?P<slope>\d*\.?\d+)\))?$")
LEAKY_SLOPE = "0.01"  # torch.nn.LeakyReLU's default


def leaky_relu(slope: str = LEAKY_SLOPE) -> Activation:
    """Leaky ReLU with the given slope for negative inputs (0 < slope < 1)."""
    m = sp.Rational(Fraction(slope).numerator, Fraction(slope).denominator)
    name = "leaky_relu" if slope == LEAKY_SLOPE else f"leaky_relu({slope})"
    return Activation(
        name, sp.Piecewise((z, z > 0), (m * z, True)), sp.Piecewise((1, z > 0), (m, True)),
        r"\operatorname{{LReLU}}({0})", r"\operatorname{{LReLU}}'({0})", rational=True,
    )


@lru_cache(maxsize=None)
def _leaky(slope: str) -> Activation:
    return leaky_relu(slope)


class _Activations(dict):
    """The activation registry; ``leaky_relu(SLOPE)`` names are made on demand."""

    def __missing__(self, name):
        # made anew each time, never stored: the registry lists the same names whatever ran before
        match = _LEAKY.match(str(name))
        if not match or not 0 < Fraction(match["slope"] or LEAKY_SLOPE) < 1:
            raise KeyError(name)
        return _leaky(match["slope"] or LEAKY_SLOPE)

    def __contains__(self, name):
        if dict.__contains__(self, name):
            return True
        try:
            self[name]
        except KeyError:
            return False
        return True


ACTIVATIONS = _Activations({
    f.name: f
    for f in (
        Activation(
            "sigmoid", 1 / (1 + sp.exp(-z)), a * (1 - a),
            r"\sigma({0})", r"\sigma'({0})", rational=False,
        ),
        Activation(
            "tanh", sp.tanh(z), 1 - a**2,
            r"\tanh({0})", r"\tanh'({0})", rational=False,
        ),
        # Piecewise, not Max: its derivative is 0 at z = 0, as in PyTorch (Heaviside would give 1/2)
        Activation(
            "relu", _relu, sp.Piecewise((1, z > 0), (0, True)),
            r"\operatorname{{ReLU}}({0})", r"\operatorname{{ReLU}}'({0})", rational=True,
        ),
        Activation(
            "identity", z, sp.Integer(1),
            "{0}", r"1", rational=True,
        ),
        leaky_relu(),
    )
})

LOSSES = {
    f.name: f
    for f in (
        Loss(
            "half_sse", sp.Rational(1, 2) * (t - a) ** 2, "sum", "sum",
            r"E = \sum_{k} \tfrac{1}{2}\,(t_k - \mathrm{out}_k)^2",
            "one half of the sum of squared errors over every output",
            rational=True,
        ),
        Loss(
            "sse", (t - a) ** 2, "sum", "sum",
            r"E = \sum_{k} (t_k - \mathrm{out}_k)^2",
            "the sum of squared errors over every output",
            rational=True,
        ),
        Loss(
            "mse", (a - t) ** 2, "mean", "mean",
            r"E = \frac{1}{N K} \sum_{n} \sum_{k} (\mathrm{out}_k - t_k)^2",
            "the mean of the squared errors over every output (and sample), as torch.nn.MSELoss computes it",
            rational=True,
        ),
        Loss(
            "bce", -(t * sp.log(a) + (1 - t) * sp.log(1 - a)), "mean", "mean",
            r"E = -\frac{1}{N K} \sum_{n} \sum_{k} \left(t_k \ln \mathrm{out}_k + (1 - t_k) \ln(1 - \mathrm{out}_k)\right)",
            "the binary cross-entropy, the mean over every output (and sample), as torch.nn.BCELoss computes it",
            rational=False,
        ),
    )
}


def check_identities() -> dict[str, bool]:
    """Prove each taught derivative identity equal to SymPy's derivative of the definition."""
    proved = {}
    for f in ACTIVATIONS.values():
        taught = f.identity.xreplace({a: f.definition})
        difference = sp.simplify(sp.piecewise_fold(taught - f.derivative()))
        proved[f.name] = difference == 0
    return proved
