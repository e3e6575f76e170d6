"""Registries of activations and losses: SymPy definitions, taught derivative identities, LaTeX.

Every function is defined once as a SymPy expression in a placeholder symbol. The
derivative used in the worked solution is the identity a lecturer teaches
(sigma' = out (1 - out)); :func:`check_identities` proves each identity equal to
SymPy's own derivative of the definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy as sp

#: placeholders the templates are written in; instantiated per unit with xreplace
z = sp.Symbol("z", real=True)  # net input of a unit
a = sp.Symbol("a", real=True)  # its output (activation)
t = sp.Symbol("t", real=True)  # its target
b = sp.Symbol("b", real=True)  # another output of the same layer (softmax couples them)
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
    #: for softmax: d out_k/d net_j (k != j) in a = out_k and b = out_j; None for an elementwise function,
    #: whose outputs each depend on their own net input only
    cross: sp.Expr | None = None

    @property
    def coupled(self) -> bool:
        """True when each output depends on every net input of its layer (softmax)."""
        return self.cross is not None

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
    title: str = ""  # its name in a subtitle


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
        # out_k = e^{z_k} / sum_m e^{z_m}: ``definition`` is the numerator, which the layer's sum divides;
        # d out_k/d z_k = out_k (1 - out_k) and, for k != j, d out_k/d z_j = -out_k out_j
        Activation(
            "softmax", sp.exp(z), a * (1 - a),
            r"\operatorname{{softmax}}({0})", r"\operatorname{{softmax}}'({0})", rational=False,
            cross=-a * b,
        ),
    )
})

#: activations allowed only on the output layer
OUTPUT_ONLY = ("softmax",)

LOSSES = {
    f.name: f
    for f in (
        Loss(
            "half_sse", sp.Rational(1, 2) * (t - a) ** 2, "sum", "sum",
            r"E = \sum_{k} \tfrac{1}{2}\,(t_k - \mathrm{out}_k)^2",
            "one half of the sum of squared errors over every output",
            rational=True,
            title="half sum-of-squares loss",
        ),
        Loss(
            "sse", (t - a) ** 2, "sum", "sum",
            r"E = \sum_{k} (t_k - \mathrm{out}_k)^2",
            "the sum of squared errors over every output",
            rational=True,
            title="sum-of-squares loss",
        ),
        Loss(
            "mse", (a - t) ** 2, "mean", "mean",
            r"E = \frac{1}{N K} \sum_{n} \sum_{k} (\mathrm{out}_k - t_k)^2",
            "the mean of the squared errors over every output (and sample), as torch.nn.MSELoss computes it",
            rational=True,
            title="mean squared error loss",
        ),
        Loss(
            "bce", -(t * sp.log(a) + (1 - t) * sp.log(1 - a)), "mean", "mean",
            r"E = -\frac{1}{N K} \sum_{n} \sum_{k} \left(t_k \ln \mathrm{out}_k + (1 - t_k) \ln(1 - \mathrm{out}_k)\right)",
            "the binary cross-entropy, the mean over every output (and sample), as torch.nn.BCELoss computes it",
            rational=False,
            title="binary cross-entropy loss",
        ),
        # PyTorch's CrossEntropyLoss applies the softmax to the logits itself; derive writes that softmax
        # as the output layer's activation (see spec.py), so the loss proper is -t ln out on probabilities
        Loss(
            "cross_entropy", -t * sp.log(a), "sum", "mean",
            r"E = -\frac{1}{N} \sum_{n} \sum_{k} t_k \ln \mathrm{out}_k",
            "the cross-entropy of the softmax of the logits, the mean over the samples, as the "
            "CrossEntropyLoss of torch.nn computes it",
            rational=False,
            title="cross-entropy loss",
        ),
    )
}


def check_identities() -> dict[str, bool]:
    """Prove each taught derivative identity equal to SymPy's derivative of the definition."""
    proved = {}
    for f in ACTIVATIONS.values():
        if f.coupled:
            proved[f.name] = _check_softmax(f)
            continue
        taught = f.identity.xreplace({a: f.definition})
        difference = sp.simplify(sp.piecewise_fold(taught - f.derivative()))
        proved[f.name] = difference == 0
    return proved


def softmax_jacobian(activation: Activation, out_k, out_j, same: bool):
    """d out_k/d net_j of a coupled activation, in the taught form, with out_k and out_j put in."""
    expr = activation.identity if same else activation.cross
    return expr.xreplace({a: out_k, b: out_j})


def _check_softmax(f: Activation, width: int = 3) -> bool:
    """The taught Jacobian against SymPy's derivatives of softmax on ``width`` net inputs."""
    nets = sp.symbols(f"z1:{width + 1}", real=True)
    numerators = [f.definition.xreplace({z: zk}) for zk in nets]
    outs = [num / sp.Add(*numerators) for num in numerators]
    for k in range(width):
        for j in range(width):
            taught = softmax_jacobian(f, outs[k], outs[j], k == j)
            if sp.simplify(taught - sp.diff(outs[k], nets[j])) != 0:
                return False
    return True
