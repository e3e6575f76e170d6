"""The chain rule written out as data: for every unit its delta, for every parameter its gradient.

Each factor is a :class:`Term`: its name, its general form (SymPy's derivative of
the local definition, in named symbols) and its value, obtained by putting the
numbers of the pass into that general form. The value is then compared with the
one the reverse sweep computed; a difference is an error, never silent.
Records are built on demand, so a 25,000-parameter network pays only for the ones
a document shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from derive.core import functions as fn
from derive.core.backprop import Pass
from derive.core.graph import Graph
from derive.core.notation import Name
from derive.core.numeric import evaluate, is_exact, to_mp


class ChainRuleMismatch(AssertionError):
    """The chain rule and an independent computation disagree: a bug in derive, never hidden."""


@dataclass(frozen=True)
class Term:
    """One named scalar of the worked solution: its general form and its value."""

    name: Name
    general: sp.Expr | None  # the formula in named symbols; None for a given number
    value: object


@dataclass(frozen=True)
class Path:
    """One path from a hidden unit through unit k of the layer above: delta_k * d net_k/d out_j."""

    name: Name
    delta: Term
    dnet_dout: Term
    value: object


@dataclass(frozen=True)
class Coupling:
    """One output's share of a softmax unit's delta: dE/dout_k * dout_k/dnet_j."""

    dE_dout: Term  # of output k
    dout_dnet: Term  # d out_k/d net_j, an entry of the softmax Jacobian
    value: object


@dataclass(frozen=True)
class UnitDelta:
    """The backward step at one unit for one sample: dE/dout, dout/dnet and their product delta.

    For a softmax unit j every output k depends on net_j, so delta is the sum of the
    ``coupling`` terms dE/dout_k * dout_k/dnet_j over the outputs (``dout_dnet`` is
    then the diagonal entry); ``simplified`` holds the steps by which SymPy reduces
    that sum, when it reduces (softmax with cross-entropy: out_j - t_j).
    """

    layer: int
    sample: int
    unit: int
    dE_dout: Term
    paths: tuple[Path, ...]  # empty for an output unit
    dout_dnet: Term
    delta: Term
    coupling: tuple[Coupling, ...] = ()
    simplified: tuple = ()  # SymPy expressions, each equal to the sum of the coupling terms; the last is the value's form


@dataclass(frozen=True)
class SampleContribution:
    """One sample's part of a parameter's gradient: delta * d net/d parameter."""

    sample: int
    delta: Term
    dnet_dparam: Term
    value: object


@dataclass(frozen=True)
class Gradient:
    """dE/d parameter, sample by sample, reduced over the batch, and the SGD update."""

    kind: str  # "W" or "b"
    layer: int
    unit: int
    source: int | None  # input unit of a weight; None for a bias
    parameter: Term
    contributions: tuple[SampleContribution, ...]
    batch_factor: object  # 1/N for a batch mean, 1 for a sum
    gradient: Term
    updated: Term | None  # None when biases are not updated


class PassValues(Mapping):
    """The value of any graph symbol in one pass, looked up by where the graph says it lives."""

    def __init__(self, graph: Graph, run: Pass, targets):
        self.graph, self.run, self.targets = graph, run, targets

    def __getitem__(self, symbol):
        kind, *at = self.graph.index[symbol]
        r = self.run
        if kind in ("net", "out"):
            l, s, j = at
            return (r.net if kind == "net" else r.out)[l][s][j]
        if kind == "t":
            return self.targets[at[0]][at[1]]
        if kind == "W":
            l, j, i = at
            return r.weights[l][j][i]
        if kind == "b":
            return r.biases[at[0]][at[1]]
        if kind == "error":
            return r.errors[at[0]][at[1]]
        if kind == "delta":
            l, s, j = at
            return r.delta[l][s][j]
        if kind == "sample_loss":
            return r.sample_losses[at[0]]
        return r.loss

    def __iter__(self):
        return iter(self.graph.index)

    def __len__(self):
        return len(self.graph.index)


class Derivation:
    """The chain-rule records of one pass, built on demand and checked as they are built."""

    def __init__(self, graph: Graph, run: Pass, targets):
        self.graph = graph
        self.run = run
        self.notation = graph.notation
        self.values = PassValues(graph, run, targets)
        self._deltas: dict[tuple, UnitDelta] = {}
        self._gradients: dict[tuple, Gradient] = {}

    def _term(self, name: Name, general: sp.Expr, expected) -> Term:
        """A factor whose value is its general form evaluated, checked against the sweep's value."""
        value = evaluate(general, self.values)
        if not _same(value, expected):
            raise ChainRuleMismatch(f"{name.text}: the formula gives {value}, the sweep gave {expected}")
        return Term(name, general, value)

    def given(self, symbol: sp.Symbol) -> Term:
        """A quantity whose value is simply looked up (a parameter, an output)."""
        return Term(Name(self.graph.names[symbol], self.graph.latex[symbol]), None, self.values[symbol])

    def unit(self, l: int, s: int, j: int) -> UnitDelta:
        """delta of unit j of layer l for sample s, with every factor."""
        key = (l, s, j)
        if key in self._deltas:
            return self._deltas[key]
        g, n, r = self.graph, self.notation, self.run
        L = g.spec.layers
        top = n.sample_loss(s)
        out_name = n.out(l, s, j)
        if l == L:
            dE_dout = self._term(n.derivative(top, out_name), g.dloss_dout(s, j), r.dE_dout[l][s][j])
            paths = ()
        else:
            paths = tuple(self.path(l, s, j, k) for k in range(g.spec.sizes[l + 1]))
            general = sp.Add(*(_product(p.delta.general, p.dnet_dout.general) for p in paths))
            total = sum((p.value for p in paths), Fraction(0))
            if not _same(total, r.dE_dout[l][s][j]):
                raise ChainRuleMismatch(f"{out_name.text}: the paths sum to {total}, the sweep gave {r.dE_dout[l][s][j]}")
            dE_dout = Term(n.derivative(top, out_name), general, total)
        dout_dnet = self._term(n.derivative(out_name, n.net(l, s, j)), g.dout_dnet(l, s, j), r.dout_dnet[l][s][j])
        if g.activation(l).coupled:
            return self._coupled(l, s, j, dE_dout, dout_dnet)
        value = dE_dout.value * dout_dnet.value
        if not _same(value, r.delta[l][s][j]):
            raise ChainRuleMismatch(f"delta at {out_name.text}: {value} != {r.delta[l][s][j]}")
        record = UnitDelta(l, s, j, dE_dout, paths, dout_dnet, Term(n.delta(l, s, j), g.delta(l, s, j), value))
        self._deltas[key] = record
        return record

    def _coupled(self, l: int, s: int, j: int, dE_dout: Term, dout_dnet: Term) -> UnitDelta:
        """delta of a softmax unit: the sum over every output k of dE/dout_k * dout_k/dnet_j."""
        g, n, r = self.graph, self.notation, self.run
        net_name = n.net(l, s, j)
        coupling = []
        for k in range(g.spec.sizes[l]):
            if k == j:
                top, local = dE_dout, dout_dnet
            else:
                out_k = n.out(l, s, k)
                top = self._term(n.derivative(n.sample_loss(s), out_k), g.dloss_dout(s, k), r.dE_dout[l][s][k])
                local = self._term(n.derivative(out_k, net_name), g.dout_dnet(l, s, j, k), r.jacobian[l][s][k][j])
            coupling.append(Coupling(top, local, top.value * local.value))
        value = sum((c.value for c in coupling[1:]), coupling[0].value)
        if not _same(value, r.delta[l][s][j]):
            raise ChainRuleMismatch(f"delta at {n.out(l, s, j).text}: {value} != {r.delta[l][s][j]}")
        steps = self._simplified(l, s, j, coupling)
        record = UnitDelta(l, s, j, dE_dout, (), dout_dnet, Term(n.delta(l, s, j), g.delta(l, s, j), value),
                           tuple(coupling), steps)
        self._deltas[(l, s, j)] = record
        return record

    def _simplified(self, l: int, s: int, j: int, coupling) -> tuple:
        """SymPy's reduction of a softmax delta, when the factors cancel: () when they do not.

        Each term cancels to t_j (out_j - 1) or t_k out_j; collected in out_j, the sum reads out_j (t_1 + ... + t_K) - t_j for
        the cross-entropy; the targets of a sample sum to 1 (the spec checks it), which
        leaves out_j - t_j. Each form is evaluated and must give the sweep's delta.
        """
        g = self.graph
        if not fn.cancels(g.loss_fn, g.activation(l)):
            return ()
        products = [_product(c.dE_dout.general, c.dout_dnet.general) for c in coupling]
        total = sp.Add(*products)
        # each output's derivative cancels the output in its Jacobian entry: the sum as a hand writes it next
        out_j = g.out(l, s, j)
        cancelled = sp.Add(*(-g.t(s, k) * (1 - out_j) if k == j else sp.Mul(g.t(s, k), out_j, evaluate=False)
                             for k in range(len(products))), evaluate=False)
        if sp.expand(cancelled - total) != 0:
            raise ChainRuleMismatch(f"the cancelled softmax delta at {self.notation.out(l, s, j).text}")
        collected = sp.collect(sp.expand(total), out_j)
        targets = [g.t(s, k) for k in range(g.spec.sizes[l])]
        # the targets sum to 1
        final = collected.xreplace({sp.Add(*targets): sp.Integer(1)})
        if final == collected:
            return ()  # did not reduce: the sum over the Jacobian is shown as it is
        for form in (cancelled, collected, final):
            self._term(self.notation.delta(l, s, j), form, self.run.delta[l][s][j])
        return (cancelled, collected, final)

    def path(self, l: int, s: int, j: int, k: int) -> Path:
        """The path from unit j of layer l through unit k of layer l + 1."""
        g, n = self.graph, self.notation
        above = self.unit(l + 1, s, k)
        parent = g.out(l, s, j)
        dnet_dout = self._term(
            n.derivative(n.net(l + 1, s, k), n.out(l, s, j)), g.dnet_dparent(l + 1, s, k, parent, j),
            self.run.weights[l + 1][k][j],
        )
        return Path(n.path(l, s, j, k), above.delta, dnet_dout, above.delta.value * dnet_dout.value)

    def gradient(self, kind: str, l: int, j: int, i: int | None = None) -> Gradient:
        """dE/dW_ji (kind 'W') or dE/db_j (kind 'b') of layer l, factor by factor (built once, then read)."""
        key = (kind, l, j, i if kind == "W" else None)
        if key not in self._gradients:
            self._gradients[key] = self._gradient(kind, l, j, i)
        return self._gradients[key]

    def _gradient(self, kind: str, l: int, j: int, i: int | None) -> Gradient:
        g, n, r = self.graph, self.notation, self.run
        symbol = g.W(l, j, i) if kind == "W" else g.b(l, j)
        parameter = self.given(symbol)
        pname = parameter.name
        contributions = []
        for s in range(g.spec.batch):
            unit = self.unit(l, s, j)
            local = self._term(
                n.derivative(n.net(l, s, j), pname), g.dnet_dparent(l, s, j, symbol, i if kind == "W" else None),
                r.out[l - 1][s][i] if kind == "W" else 1,
            )
            contributions.append(SampleContribution(s, unit.delta, local, unit.delta.value * local.value))
        batch_factor = Fraction(int(g.batch_weight.p), int(g.batch_weight.q))
        value = batch_factor * sum((c.value for c in contributions), Fraction(0))
        expected = r.grad_W[l][j][i] if kind == "W" else r.grad_b[l][j]
        if not _same(value, expected):
            raise ChainRuleMismatch(f"d{n.loss().text}/d{pname.text}: {value} != {expected}")
        general = g.batch_weight * sp.Add(*(_product(c.delta.general, c.dnet_dparam.general) for c in contributions))
        gradient = Term(n.derivative(n.loss(), pname), general, value)
        updated = None
        if kind == "W" or g.spec.update_biases:
            new = r.new_weights[l][j][i] if kind == "W" else r.new_biases[l][j]
            updated = Term(n.updated(pname), None, new)
        return Gradient(kind, l, j, i, parameter, tuple(contributions), batch_factor, gradient, updated)

    def gradients(self):
        """Every parameter's gradient record, layer by layer from the output back."""
        sizes = self.graph.spec.sizes
        for l in range(len(sizes) - 1, 0, -1):
            for j in range(sizes[l]):
                for i in range(sizes[l - 1]):
                    yield self.gradient("W", l, j, i)
                yield self.gradient("b", l, j)


def _product(*factors):
    """A product that keeps its factors apart for printing (no evaluation)."""
    return sp.Mul(*factors, evaluate=False)


def _same(a, b) -> bool:
    """Equal exactly for rationals, to 30 significant digits for the high-precision floats.

    Thirty, not sixty: a saturated sigmoid computes 1 - out by cancellation and loses
    as many digits as it is saturated, so two correct routes to the same derivative
    agree to fewer digits than the working precision.
    """
    if a == b:
        return True
    if is_exact(a) and is_exact(b):
        return False
    a, b = to_mp(a), to_mp(b)
    return abs(a - b) <= abs(b) * _DIGITS_30 + _TINY_50


#: 1e-30 and 1e-50 in the private context (the tolerances of _same, made once)
_DIGITS_30, _TINY_50 = to_mp(10) ** -30, to_mp(10) ** -50
