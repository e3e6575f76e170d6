"""Registries of activations and losses: one entry each carries everything derive knows about it.

Every function is defined once as a SymPy expression in a placeholder symbol. The
derivative used in the worked solution is the identity a lecturer teaches
(sigma' = out (1 - out)); :func:`check_identities` proves each identity equal to
SymPy's own derivative of the definition. Beside the mathematics an entry holds its
formula text (LaTeX and plain), its PyTorch module, the targets a worksheet version
draws and the properties the named mistakes and the documents ask about; code outside
this module reads those attributes and never tests a name. An unknown name is an
error (:class:`UnknownName`). To add an activation or a loss, add its entry here and
a row to the tests' oracle lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

import sympy as sp

#: placeholders the templates are written in; instantiated per unit with xreplace
z = sp.Symbol("z", real=True)  # net input of a unit
a = sp.Symbol("a", real=True)  # its output (activation)
t = sp.Symbol("t", real=True)  # its target
b = sp.Symbol("b", real=True)  # another output of the same layer (softmax couples them)
K = sp.Symbol("K", positive=True, integer=True)  # outputs per sample


class UnknownName(KeyError):
    """A name no registry entry has: an error, never another entry's formula."""

    def __str__(self) -> str:
        return self.args[0]


class Registry(dict):
    """Entries by name; an unknown name raises :class:`UnknownName` with the names that exist."""

    what = "entry"

    def __missing__(self, name):
        raise self.unknown(name)

    def unknown(self, name) -> UnknownName:
        """The error for a name no entry has."""
        return UnknownName(f"unknown {self.what} {name!r}; known: {', '.join(self)}")


class Grid(NamedTuple):
    """Numbers a student can work with: the multiples of ``step`` from ``low`` to ``high``."""

    low: Fraction
    high: Fraction
    step: Fraction


@dataclass(frozen=True)
class Module:
    """How PyTorch writes a function: a class of torch.nn and the settings derive's definition needs.

    ``settings`` pairs an attribute of the module with the values that mean derive's
    function (the first is what :func:`derive.io.torchio.to_torch` passes); a module read
    with another value is refused with ``refused``, the reason. ``parameter`` names the
    attribute whose value names a member of a family (LeakyReLU's slope: ``leaky_relu(0.2)``).
    """

    name: str
    settings: tuple = ()  # ((attribute, (value, ...)), ...)
    refused: str = ""
    parameter: str | None = None

    def arguments(self) -> dict:
        """The keyword arguments that make derive's function."""
        return {attribute: values[0] for attribute, values in self.settings}


@dataclass(frozen=True)
class Activation:
    """An activation function: its definition, the derivative identity it is taught with, and how it is written.

    Everything derive knows about an activation is here; the rest of derive reads these
    attributes and never tests a name.
    """

    name: str
    definition: sp.Expr  # in z
    identity: sp.Expr  # da/dz written in a (and z where needed)
    latex: str  # how f(net) is written, with {0} for the argument
    derivative_latex: str  # how f'(net) is written, with {0} for the argument
    #: the definition as a lecturer writes it, in LaTeX with {net} and {out}: \sigma(net) = 1/(1 + e^{-net})
    equation: str
    symbol: str  # f in plain text (the sentences of derive check): sigma, so that f'(net) is sigma'(net)
    identity_plain: str  # the taught derivative in plain text, in {out} and {net}: {out}(1 - {out})
    rational: bool  # maps rationals to rationals, so values stay exact
    torch: Module  # the torch.nn module (from_torch reads it, to_torch writes it)
    #: the targets a worksheet version draws for an output of this function; None for a coupled function,
    #: whose targets are class probabilities
    targets: Grid | None
    #: its derivative vanishes for large |net|: a worksheet version keeps |net| small
    saturates: bool = False
    #: not differentiable at net = 0: a worksheet version keeps every net input away from 0
    kink: bool = False
    #: its derivative is the mask [net > 0] and its output is never negative, so a mask tested on the
    #: output (out < 0) never masks: the bug of the first source document
    mask: bool = False
    #: for softmax: d out_k/d net_j (k != j) in a = out_k and b = out_j; None for an elementwise function,
    #: whose outputs each depend on their own net input only
    cross: sp.Expr | None = None
    #: the family a parameterised function belongs to (``leaky_relu`` for ``leaky_relu(0.2)``)
    family: str | None = None
    #: its name in words, as prose writes it ("ReLU", "leaky ReLU with slope 0.2"); the key when empty
    words: str = ""

    @property
    def title(self) -> str:
        """The name in words for sentences: "the ReLU activation", never the registry key."""
        return self.words or self.name

    @property
    def coupled(self) -> bool:
        """True when each output depends on every net input of its layer (softmax): allowed on the output layer only."""
        return self.cross is not None

    @property
    def passthrough(self) -> bool:
        """True when out is net (the identity): no derivative to show, no module in PyTorch."""
        return self.definition == z

    @property
    def taught_in_out(self) -> bool:
        """True when the taught derivative is written in the output (sigma' = out (1 - out))."""
        return a in self.identity.free_symbols

    @lru_cache(maxsize=None)  # a few registry entries, kept for the program's life: SymPy's diff is slow
    def derivative(self) -> sp.Expr:
        """SymPy's own derivative of the definition, in z."""
        return sp.diff(self.definition, z)

    def equation_latex(self, net: str, out: str) -> str:
        """The definition in LaTeX, with the net input and the output written ``net`` and ``out``."""
        return self.equation.format(net=net, out=out)

    def rule_plain(self, out: str, net: str = "net") -> str:
        """The taught derivative in plain text, with the output and the net input named."""
        return self.identity_plain.format(out=out, net=net)


@dataclass(frozen=True)
class Squared:
    """A squared-error loss: the coefficient of each squared error, its sign, and how the squares are reduced."""

    coefficient: sp.Rational  # 1/2 for the blog's loss
    target_first: bool  # written (t - out)^2, else (out - t)^2
    words: str  # "one half of the sum": how the squares make the loss


@dataclass(frozen=True)
class LossModule:
    """How PyTorch writes a loss: a class of torch.nn, its reduction, settings, and a factor in front."""

    name: str
    reduction: str = "mean"
    settings: tuple = ()  # ((attribute, value), ...): passed to the module, required of a module read
    scale: sp.Rational = sp.Integer(1)  # derive's loss is scale times the module's (half_sse: 1/2)


@dataclass(frozen=True)
class Loss:
    """A loss as a sum of per-output terms, reduced within a sample and over the batch, and how it is written."""

    name: str
    term: sp.Expr  # one output's contribution before the reductions, in a and t
    output_reduction: str  # "sum" or "mean" over the K outputs of one sample
    batch_reduction: str  # "sum" or "mean" over the N samples
    #: one output's term in LaTeX, in {t} and {o} (the target and the output), after the sign and the sums
    term_latex: str
    negated: bool  # written with a minus sign in front of the sums (the cross-entropies)
    term_plain: str  # one output's term in plain text, in {t} and {out}
    description: str  # "the sum of squared errors over every output": the loss in a sentence
    rational: bool
    title: str  # its name in a subtitle: "mean squared error loss"
    torch: LossModule
    #: what the targets are: "any" number, "probabilities" (between 0 and 1), or "classes" (probabilities
    #: that sum to 1 in each sample; worksheet versions draw one-hot rows)
    targets: str = "any"
    squared: Squared | None = None  # a squared error: how the documents and the named mistakes speak of it
    #: the output activation whose derivative cancels against the loss's: bce with sigmoid; cross_entropy
    #: with softmax, where the output delta reduces to out - t
    link: str | None = None
    #: the loss applies its link to the output layer's net inputs itself (PyTorch's CrossEntropyLoss takes
    #: logits): the spec's output activation is identity or the link, meaning the same
    takes_logits: bool = False

    def weight(self, N: int, K: int) -> sp.Rational:
        """The factor of the reductions: 1/(N K) for a mean over every output and sample."""
        outputs = K if self.output_reduction == "mean" else 1
        samples = N if self.batch_reduction == "mean" else 1
        return sp.Rational(1, outputs * samples)

    def factor_latex(self, N: int, K: int) -> str:
        """The reductions' factor as the loss formula writes it: '\\frac{1}{N K} ' ('' when it is 1)."""
        outputs, samples = self.output_reduction == "mean", self.batch_reduction == "mean"
        if outputs and samples:
            return r"\frac{1}{N K} " if N * K != 1 else ""
        if samples:
            return r"\frac{1}{N} " if N != 1 else ""
        if outputs:
            return r"\frac{1}{K} " if K != 1 else ""
        return ""

    def formula_latex(self, E: str, t: str, o: str, sums: str, N: int, K: int) -> str:
        """The loss in LaTeX: E = (sign)(factor)(sums) term, the target and output written ``t`` and ``o``."""
        sign = "-" if self.negated else ""
        return f"{E} = {sign}{self.factor_latex(N, K)}{sums} " + self.term_latex.format(t=t, o=o)


def cancels(loss: Loss, activation: Activation) -> bool:
    """True when the output delta reduces to the error: softmax with cross_entropy (out - t)."""
    return activation.coupled and loss.link == activation.name


_relu = sp.Piecewise((z, z > 0), (0, True))

#: ``leaky_relu`` or ``leaky_relu(0.2)``: the slope for negative inputs, as decimal text (never evaluated)
_LEAKY = re.compile(r"^leaky_relu(?:\((?P<slope>\d*\.?\d+)\))?$")
LEAKY_SLOPE = "0.01"  # torch.nn.LeakyReLU's default
_WIDE = Grid(Fraction(-1), Fraction(1), Fraction(1, 20))  # an output that takes any value
_UNIT = Grid(Fraction(0), Fraction(1), Fraction(1, 20))  # an output that is never negative


def leaky_relu(slope: str = LEAKY_SLOPE) -> Activation:
    """Leaky ReLU with the given slope for negative inputs (0 < slope < 1)."""
    m = sp.Rational(Fraction(slope).numerator, Fraction(slope).denominator)
    name = "leaky_relu" if slope == LEAKY_SLOPE else f"leaky_relu({slope})"
    return Activation(
        name, sp.Piecewise((z, z > 0), (m * z, True)), sp.Piecewise((1, z > 0), (m, True)),
        r"\operatorname{{LReLU}}({0})", r"\operatorname{{LReLU}}'({0})",
        equation=rf"\operatorname{{{{LReLU}}}}({{net}}) = \max({slope}\,{{net}}, {{net}})",
        symbol="LReLU", identity_plain=f"1 if {{net}} > 0, else {slope}",
        rational=True,
        torch=Module("LeakyReLU", (("negative_slope", (float(Fraction(slope)),)),),
                     "has a slope outside 0 to 1; derive needs a slope between 0 and 1", parameter="negative_slope"),
        targets=_WIDE, kink=True, family="leaky_relu",
        words="leaky ReLU" if slope == LEAKY_SLOPE else f"leaky ReLU (slope {slope})",
    )


@lru_cache(maxsize=None)
def _leaky(slope: str) -> Activation:
    return leaky_relu(slope)


class _Activations(Registry):
    """The activation registry; ``leaky_relu(SLOPE)`` names are made on demand."""

    what = "activation"

    def __missing__(self, name):
        # made anew each time, never stored: the registry lists the same names whatever ran before
        match = _LEAKY.match(str(name))
        if not match or not 0 < Fraction(match["slope"] or LEAKY_SLOPE) < 1:
            raise self.unknown(name)
        return _leaky(match["slope"] or LEAKY_SLOPE)

    def __contains__(self, name):
        if dict.__contains__(self, name):
            return True
        try:
            self[name]
        except KeyError:
            return False
        return True


class _Losses(Registry):
    what = "loss"


ACTIVATIONS = _Activations({
    f.name: f
    for f in (
        Activation(
            "sigmoid", 1 / (1 + sp.exp(-z)), a * (1 - a),
            r"\sigma({0})", r"\sigma'({0})",
            equation=r"\sigma({net}) = \frac{{1}}{{1 + e^{{-{net}}}}}",
            symbol="sigma", identity_plain="{out}(1 - {out})",
            rational=False, torch=Module("Sigmoid"),
            targets=Grid(Fraction(1, 100), Fraction(99, 100), Fraction(1, 100)), saturates=True,
        ),
        Activation(
            "tanh", sp.tanh(z), 1 - a**2,
            r"\tanh({0})", r"\tanh'({0})",
            equation=r"\tanh({net}) = \frac{{e^{{{net}}} - e^{{-{net}}}}}{{e^{{{net}}} + e^{{-{net}}}}}",
            symbol="tanh", identity_plain="1 - {out}^2",
            rational=False, torch=Module("Tanh"),
            targets=Grid(Fraction(-95, 100), Fraction(95, 100), Fraction(5, 100)), saturates=True,
        ),
        # Piecewise, not Max: its derivative is 0 at z = 0, as in PyTorch (Heaviside would give 1/2)
        Activation(
            "relu", _relu, sp.Piecewise((1, z > 0), (0, True)),
            r"\operatorname{{ReLU}}({0})", r"\operatorname{{ReLU}}'({0})",
            equation=r"\operatorname{{ReLU}}({net}) = \max(0, {net})",
            symbol="ReLU", identity_plain="[{net} > 0]",
            rational=True, torch=Module("ReLU"), targets=_UNIT, kink=True, mask=True, words="ReLU",
        ),
        Activation(
            "identity", z, sp.Integer(1),
            "{0}", r"1",
            equation="{out} = {net}",
            symbol="id", identity_plain="1",
            rational=True, torch=Module("Identity"), targets=_WIDE,
        ),
        leaky_relu(),
        # out_k = e^{z_k} / sum_m e^{z_m}: ``definition`` is the numerator, which the layer's sum divides;
        # d out_k/d z_k = out_k (1 - out_k) and, for k != j, d out_k/d z_j = -out_k out_j
        Activation(
            "softmax", sp.exp(z), a * (1 - a),
            r"\operatorname{{softmax}}({0})", r"\operatorname{{softmax}}'({0})",
            equation=r"{out}_k = \frac{{e^{{{net}_k}}}}{{\sum_{{m}} e^{{{net}_m}}}}",
            symbol="softmax", identity_plain="{out}(1 - {out})",
            rational=False,
            torch=Module("Softmax", (("dim", (1, -1)),),
                         "normalises across the samples; derive's softmax is over the units of a layer "
                         "(dim=1 or dim=-1)"),
            targets=None, saturates=True, cross=-a * b,
        ),
        # ln(1 + e^z), as torch.nn.Softplus with beta 1; its derivative is the sigmoid, e^z/(1 + e^z) = 1 - e^{-out}.
        # PyTorch returns z itself above its threshold (z > 20), within 1e-9 of the exact value derive computes
        Activation(
            "softplus", sp.log(1 + sp.exp(z)), 1 - sp.exp(-a),
            r"\operatorname{{softplus}}({0})", r"\operatorname{{softplus}}'({0})",
            equation=r"\operatorname{{softplus}}({net}) = \ln(1 + e^{{{net}}})",
            symbol="softplus", identity_plain="1 - e^(-{out})",
            rational=False,
            torch=Module("Softplus", (("beta", (1,)), ("threshold", (20,))),
                         "is not derive's softplus, ln(1 + e^net): that is Softplus with beta=1 and threshold=20 "
                         "(PyTorch's defaults)"),
            targets=_UNIT, saturates=True,
        ),
    )
})

#: the activations allowed on the output layer only (a coupled one needs every net input of its layer)
OUTPUT_ONLY = tuple(name for name, f in ACTIVATIONS.items() if f.coupled)

LOSSES = _Losses({
    f.name: f
    for f in (
        Loss(
            "half_sse", sp.Rational(1, 2) * (t - a) ** 2, "sum", "sum",
            r"\tfrac{{1}}{{2}} ({t} - {o})^2", False, "1/2 ({t} - {out})^2",
            "one half of the sum of squared errors over every output",
            rational=True,
            title="half sum-of-squares loss",
            torch=LossModule("MSELoss", "sum", scale=sp.Rational(1, 2)),
            squared=Squared(sp.Rational(1, 2), True, "one half of the sum"),
        ),
        Loss(
            "sse", (t - a) ** 2, "sum", "sum",
            r"({t} - {o})^2", False, "({t} - {out})^2",
            "the sum of squared errors over every output",
            rational=True,
            title="sum-of-squares loss",
            torch=LossModule("MSELoss", "sum"),
            squared=Squared(sp.Integer(1), True, "the sum"),
        ),
        Loss(
            "mse", (a - t) ** 2, "mean", "mean",
            r"({o} - {t})^2", False, "({out} - {t})^2",
            "the mean of the squared errors over every output (and sample)",
            rational=True,
            title="mean squared error loss",
            torch=LossModule("MSELoss"),
            squared=Squared(sp.Integer(1), False, "the mean"),
        ),
        Loss(
            "bce", -(t * sp.log(a) + (1 - t) * sp.log(1 - a)), "mean", "mean",
            r"\left({t} \ln {o} + (1 - {t}) \ln(1 - {o})\right)", True, "-({t} ln({out}) + (1 - {t}) ln(1 - {out}))",
            "the binary cross-entropy, the mean over every output (and sample)",
            rational=False,
            title="binary cross-entropy loss",
            torch=LossModule("BCELoss"), targets="probabilities", link="sigmoid",
        ),
        # PyTorch's CrossEntropyLoss applies the softmax to the logits itself; derive writes that softmax
        # as the output layer's activation (see spec.py), so the loss proper is -t ln out on probabilities
        Loss(
            "cross_entropy", -t * sp.log(a), "sum", "mean",
            r"{t} \ln {o}", True, "-{t} ln({out})",
            "the cross-entropy of the softmax of the logits, the mean over the samples",
            rational=False,
            title="cross-entropy loss",
            torch=LossModule("CrossEntropyLoss"), targets="classes", link="softmax", takes_logits=True,
        ),
    )
})


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
