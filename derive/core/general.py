"""Every quantity of the backward pass as a general formula in the network's own symbols (no numbers).

The chain-rule records (:mod:`derive.core.derivation`) name each factor and carry its
value; here the factors are multiplied out into formulas a lecturer writes on the
board: dE/dw5 = (out_o1 - t_o1) out_o1 (1 - out_o1) out_h1, and a hidden unit's
dE/dout as the sum over its paths, each path's delta written out in turn. Every
formula is built from the graph's definitions and SymPy's local derivatives
(:class:`derive.core.graph.Graph`), with the factors kept in the order the chain rule
takes them. Where SymPy proves a shorter form (softmax with cross-entropy: out - t;
sigmoid with binary cross-entropy: (out - t)/K) that form is used, and
:meth:`General.simplification` gives the steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.core.graph import Graph, product, total


@dataclass(frozen=True)
class Simplification:
    """A delta SymPy reduces: the product of the factors, the steps, the reduced form, and the fact it uses."""

    product: sp.Expr
    steps: tuple  # SymPy expressions, each equal to the product (given ``uses``)
    reduced: sp.Expr
    uses: str  # '' or the fact the reduction needs ('the targets sum to 1')


class General:
    """The general formulas of one network's backward pass, built on demand from its graph."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.spec = graph.spec
        self._delta: dict = {}
        self._simplified: dict = {}

    # -- factors ---------------------------------------------------------------------
    def dE_dout(self, l: int, s: int, j: int, expand: bool = True) -> sp.Expr:
        """dE/dout of a unit: SymPy's derivative of the loss (an output), or the sum over its paths (hidden).

        With ``expand`` the deltas of the layer above are written out; otherwise they are the delta symbols.
        """
        g = self.graph
        if l == self.spec.layers:
            return g.dloss_dout(s, j)
        return total(*(product(self._delta_factor(l + 1, s, k, expand), g.W(l + 1, k, j))
                       for k in range(self.spec.sizes[l + 1])))

    def _delta_factor(self, l, s, k, expand):
        """The delta of a unit as a factor of a path: written out, or its symbol."""
        return self.delta(l, s, k) if expand else self.graph.delta(l, s, k)

    def dout_dnet(self, l: int, s: int, j: int) -> sp.Expr:
        """d out/d net in the taught form (sigma' = out (1 - out))."""
        return self.graph.dout_dnet(l, s, j)

    def dnet_dparam(self, kind: str, l: int, s: int, j: int, i: int | None) -> sp.Expr:
        """d net/d parameter: SymPy's derivative of the term of net's definition that holds the parameter."""
        g = self.graph
        symbol = g.W(l, j, i) if kind == "W" else g.b(l, j)
        return g.dnet_dparent(l, s, j, symbol, i if kind == "W" else None)

    # -- deltas ----------------------------------------------------------------------
    def delta(self, l: int, s: int, j: int) -> sp.Expr:
        """delta = dE/dnet of a unit, every factor written out in the network's symbols (reduced where proved)."""
        key = (l, s, j)
        if key not in self._delta:
            reduced = self.simplification(l, s, j)
            if reduced is not None:
                self._delta[key] = reduced.reduced
            elif self.graph.activation(l).coupled:
                self._delta[key] = self.coupled_sum(l, s, j)
            else:
                self._delta[key] = product(self.dE_dout(l, s, j), self.dout_dnet(l, s, j))
        return self._delta[key]

    def coupled_sum(self, l: int, s: int, j: int) -> sp.Expr:
        """A softmax unit's delta as the sum over the outputs of dE/dout_k * d out_k/d net_j."""
        g = self.graph
        return total(*(product(g.dloss_dout(s, k), g.dout_dnet(l, s, j, k)) for k in range(self.spec.sizes[l])))

    def simplification(self, l: int, s: int, j: int) -> Simplification | None:
        """How SymPy reduces an output delta, when it does; None otherwise.

        Softmax with cross-entropy: the sum over the Jacobian collects to out_j (t_1 + ... + t_K) - t_j,
        and the targets of a sample sum to 1. Sigmoid with binary cross-entropy: the output's
        out (1 - out) cancels the denominator of the loss's derivative.
        """
        key = (l, s, j)
        if key in self._simplified:
            return self._simplified[key]
        g, spec = self.graph, self.spec
        found = None
        if l == spec.layers:
            act = g.activation(l)
            out_j = g.out(l, s, j)
            if act.coupled and spec.loss == "cross_entropy":
                summed = self.coupled_sum(l, s, j)
                collected = sp.collect(sp.expand(summed), out_j)
                targets = sp.Add(*(g.t(s, k) for k in range(spec.sizes[l])))
                reduced = collected.xreplace({targets: sp.Integer(1)})
                if reduced != collected and sp.expand(reduced - (out_j - g.t(s, j))) == 0:
                    found = Simplification(summed, (collected,), out_j - g.t(s, j), "the targets sum to 1")
            elif not act.coupled:
                factors = product(self.dE_dout(l, s, j), self.dout_dnet(l, s, j))
                cancelled = sp.factor(sp.cancel(sp.together(factors)))
                if reduces(factors, cancelled, out_j):
                    found = Simplification(factors, (sp.together(factors),), tidy_error(cancelled, out_j, g.t(s, j)), "")
        self._simplified[key] = found
        return found

    # -- gradients -------------------------------------------------------------------
    def contribution(self, kind: str, l: int, s: int, j: int, i: int | None) -> sp.Expr:
        """One sample's part of dE/d parameter: its delta times d net/d parameter, written out."""
        local = self.dnet_dparam(kind, l, s, j, i)
        delta = self.delta(l, s, j)
        return delta if local == 1 else product(delta, local)

    def gradient(self, kind: str, l: int, j: int, i: int | None = None) -> sp.Expr:
        """dE/dW_ji (kind 'W') or dE/db_j (kind 'b') of layer l, written out in the network's symbols."""
        g = self.graph
        parts = [self.contribution(kind, l, s, j, i) for s in range(self.spec.batch)]
        summed = parts[0] if len(parts) == 1 else total(*parts)
        return summed if g.batch_weight == 1 else product(g.batch_weight, summed)

    def factors(self, kind: str, l: int, s: int, j: int, i: int | None) -> tuple:
        """The chain-rule factors of one sample's part of a gradient: (dE/dout, dout/dnet, dnet/dparameter).

        For a softmax output the first two are one factor, the delta (its sum over the outputs).
        """
        if self.graph.activation(l).coupled:
            return (self.delta(l, s, j), self.dnet_dparam(kind, l, s, j, i))
        reduced = self.simplification(l, s, j)
        if reduced is not None:
            return (reduced.reduced, self.dnet_dparam(kind, l, s, j, i))
        return (self.dE_dout(l, s, j), self.dout_dnet(l, s, j), self.dnet_dparam(kind, l, s, j, i))


def reduces(product_form: sp.Expr, cancelled: sp.Expr, out: sp.Symbol) -> bool:
    """True when the cancelled form is shorter, free of divisions by the output, and equal (a textbook reduction)."""
    return (sp.count_ops(cancelled) < sp.count_ops(product_form) and cancelled.is_polynomial(out)
            and sp.simplify(cancelled - product_form) == 0)


def tidy_error(expr: sp.Expr, out: sp.Symbol, target: sp.Symbol) -> sp.Expr:
    """(out - t)/K rather than -(t - out)/K: the error as the textbook writes it, a constant factor in front."""
    error = sp.Add(out, -target, evaluate=False)
    ratio = sp.cancel(expr / (out - target))
    if ratio.has(out) or ratio.has(target):
        return expr
    return error if ratio == 1 else product(ratio, error)
