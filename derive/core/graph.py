"""The network as named SymPy quantities, each defined in terms of its parents.

Symbols are created on demand (a 784-32-10 network has 25,450 parameters and
only the ones a document shows need a symbol); every symbol carries the LaTeX it
prints with in :attr:`Graph.latex`.
"""

from __future__ import annotations

from functools import cached_property

import sympy as sp

from derive.core import functions as fn
from derive.core.notation import Name, Notation
from derive.core.spec import NetworkSpec


class Graph:
    """Symbols and local definitions of one network (symbolic; no numbers)."""

    def __init__(self, spec: NetworkSpec, notation: Notation):
        self.spec = spec
        self.notation = notation
        self.latex: dict[sp.Symbol, str] = {}
        self.names: dict[sp.Symbol, str] = {}
        self.index: dict[sp.Symbol, tuple] = {}  # symbol -> (kind, indices...) to look its value up

    # -- symbols ---------------------------------------------------------------------
    def symbol(self, name: Name, *index) -> sp.Symbol:
        """The SymPy symbol of a named quantity; ``index`` says where its value is kept."""
        s = sp.Symbol(name.text, real=True)
        self.latex[s] = name.latex
        self.names[s] = name.text
        self.index[s] = index
        return s

    def x(self, s, i):
        return self.symbol(self.notation.input(s, i), "out", 0, s, i)

    def t(self, s, k):
        return self.symbol(self.notation.target(s, k), "t", s, k)

    def net(self, l, s, j):
        return self.symbol(self.notation.net(l, s, j), "net", l, s, j)

    def out(self, l, s, j):
        return self.symbol(self.notation.out(l, s, j), "out", l, s, j)

    def delta(self, l, s, j):
        return self.symbol(self.notation.delta(l, s, j), "delta", l, s, j)

    def W(self, l, j, i):
        return self.symbol(self.notation.weight(l, j, i), "W", l, j, i)

    def b(self, l, j):
        return self.symbol(self.notation.bias(l, j), "b", l, j)

    def error(self, s, k):
        return self.symbol(self.notation.error(s, k), "error", s, k)

    def sample_loss(self, s):
        return self.symbol(self.notation.sample_loss(s), "sample_loss", s)

    def loss(self):
        return self.symbol(self.notation.loss(), "loss")

    # -- local definitions -----------------------------------------------------------
    def net_terms(self, l, s, j) -> list[sp.Expr]:
        """The terms of net = sum_i W_ji out_i + b_j, in reading order."""
        terms = [self.W(l, j, i) * self.out(l - 1, s, i) for i in range(self.spec.sizes[l - 1])]
        return terms + [self.b(l, j)]

    def out_definition(self, l, s, j) -> sp.Expr:
        """out = f(net); for softmax, e^{net_j} over the sum of e^{net_k} over the layer."""
        act = self.activation(l)
        numerator = act.definition.xreplace({fn.z: self.net(l, s, j)})
        if not act.coupled:
            return numerator
        numerators = [act.definition.xreplace({fn.z: self.net(l, s, k)}) for k in range(self.spec.sizes[l])]
        return numerator / sp.Add(*numerators)

    def error_definition(self, s, k) -> sp.Expr:
        """One output's contribution to the loss of sample s."""
        L = self.spec.layers
        return self.output_weight * self.loss_fn.term.xreplace({fn.a: self.out(L, s, k), fn.t: self.t(s, k)})

    def sample_loss_definition(self, s) -> sp.Expr:
        """The loss of one sample: the sum of its outputs' contributions."""
        return sp.Add(*(self.error_definition(s, k) for k in range(self.spec.sizes[-1])))

    @cached_property
    def output_weight(self) -> sp.Rational:
        """1/K for a loss that averages over the K outputs, else 1."""
        return sp.Rational(1, self.spec.sizes[-1]) if self.loss_fn.output_reduction == "mean" else sp.Integer(1)

    @cached_property
    def batch_weight(self) -> sp.Rational:
        """1/N for a loss that averages over the N samples, else 1."""
        return sp.Rational(1, self.spec.batch) if self.loss_fn.batch_reduction == "mean" else sp.Integer(1)

    @cached_property
    def loss_fn(self) -> fn.Loss:
        return fn.LOSSES[self.spec.loss]

    def activation(self, l) -> fn.Activation:
        return fn.ACTIVATIONS[self.spec.activations[l - 1]]

    # -- local partial derivatives, by SymPy from the definitions ---------------------
    def dloss_dout(self, s, k) -> sp.Expr:
        """d(sample loss)/d(out_k): SymPy's derivative of the sample loss's definition."""
        # factor_terms writes 2 (a - t), not -2 t + 2 a; the expression is the same
        return sp.factor_terms(sp.diff(self.sample_loss_definition(s), self.out(self.spec.layers, s, k)))

    def dout_dnet(self, l, s, j, k=None) -> sp.Expr:
        """d out_k/d net_j in the taught form (sigma' = out (1 - out)); k is j unless the layer is a softmax."""
        act = self.activation(l)
        if k is None or k == j:
            return act.identity.xreplace({fn.a: self.out(l, s, j), fn.z: self.net(l, s, j)})
        return fn.softmax_jacobian(act, self.out(l, s, k), self.out(l, s, j), same=False)

    def dnet_dparent(self, l, s, j, parent: sp.Symbol, i: int | None = None) -> sp.Expr:
        """d net_j/d parent: SymPy differentiates the term of net's definition that holds the parent.

        ``i`` names that term (the input unit of a weight or of an incoming output;
        None for the bias). The other terms of the weighted sum do not contain the
        parent, so their derivative is zero; skipping them keeps wide layers fast.
        """
        term = self.b(l, j) if i is None else self.W(l, j, i) * self.out(l - 1, s, i)
        return sp.diff(term, parent)


def product(*factors) -> sp.Expr:
    """A product that keeps its factors in the given order."""
    return sp.Mul(*factors, evaluate=False)


def total(*terms) -> sp.Expr:
    """A sum that keeps its terms in the given order."""
    return sp.Add(*terms, evaluate=False)
