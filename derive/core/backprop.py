"""One forward and backward pass with the numbers put in: every value of the worked solution.

The local derivatives are SymPy's derivatives of each quantity's definition (see
:mod:`derive.core.graph` and :class:`Rules`), evaluated exactly; the reverse sweep goes
layer by layer from the loss to the inputs, summing over every path through the
layer above, as micrograd's ``backward`` does, but it records values instead of
mutating the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from derive.core import balls
from derive.core import flintpass
from derive.core import functions as fn
from derive.core.numeric import evaluate, lift, tame
from derive.core.spec import NetworkSpec

Values = tuple  # nested tuples of Fraction / mpf


@dataclass(frozen=True)
class Rules:
    """The local derivatives of one network's definitions, as SymPy expressions in placeholders."""

    activations: tuple  # per layer l (index 0 unused): (definition in z, derivative identity in a and z,
    #                     softmax's d out_k/d net_j for k != j in a and b, or None for an elementwise function)
    dloss: sp.Expr  # d(one output's contribution)/d(out), in a and t, with the 1/K of an output mean
    loss_term: sp.Expr  # one output's contribution, in a and t
    batch_weight: Fraction  # 1/N when the loss averages over the batch, else 1
    exact: bool  # every value rational: Fractions throughout, else 60-digit floats throughout

    @staticmethod
    def for_spec(spec: NetworkSpec) -> "Rules":
        loss = fn.LOSSES[spec.loss]
        K = spec.sizes[-1]
        weight = sp.Rational(1, K) if loss.output_reduction == "mean" else sp.Integer(1)
        term = weight * loss.term
        acts = [None] + [
            (fn.ACTIVATIONS[name].definition, fn.ACTIVATIONS[name].identity, fn.ACTIVATIONS[name].cross)
            for name in spec.activations
        ]
        batch = Fraction(1, spec.batch) if loss.batch_reduction == "mean" else Fraction(1)
        exact = loss.rational and spec.rational and all(fn.ACTIVATIONS[name].rational for name in spec.activations)
        return Rules(tuple(acts), sp.diff(term, fn.a), term, batch, exact)

    def lift(self, values):
        """Nested tuples of spec numbers in this network's number domain."""
        if self.exact:
            return values  # lift() leaves a rational as it is
        if isinstance(values, tuple):
            return tuple(self.lift(v) for v in values)
        return lift(values, self.exact)


@dataclass(frozen=True)
class Pass:
    """Every number of one forward pass, backward pass and SGD update.

    Per-layer tuples are indexed by the layer number ``l`` (1 = first layer after
    the input, L = output layer); index 0 holds the inputs for ``out`` and is empty
    elsewhere. Per-sample values are indexed ``[l][s][j]``, weights ``[l][j][i]``.
    """

    weights: tuple
    biases: tuple
    net: tuple
    out: tuple
    errors: Values  # [s][k]: each output's contribution to the loss
    sample_losses: Values  # [s]
    loss: object
    dE_dout: tuple  # [l][s][j]: derivative of the sample's loss
    dout_dnet: tuple  # [l][s][j]: d out_j/d net_j (for softmax the diagonal of its Jacobian)
    jacobian: tuple  # [l][s][k][j] = d out_k/d net_j for a softmax layer; None for an elementwise layer
    delta: tuple  # [l][s][j] = dE_s/dnet
    grad_W: tuple  # [l][j][i], of the whole loss
    grad_b: tuple
    new_weights: tuple
    new_biases: tuple
    #: the same values as FLINT matrices (flintpass.Matrices) when the products ran on FLINT, else None
    matrices: object = field(default=None, compare=False, repr=False)

    @property
    def layers(self) -> int:
        return len(self.net) - 1


def forward(spec: NetworkSpec, rules: Rules, weights, biases):
    """net, out per layer, each output's loss contribution, each sample's loss and the loss."""
    if rules.exact and flintpass.available() and flintpass.exact_network(weights, biases):
        return flintpass.forward(spec, rules, weights, biases)[:5]
    net, out = [()], [rules.lift(spec.inputs)]
    for l in range(1, spec.layers + 1):
        W, b = weights[l], biases[l]
        definition, _, cross = rules.activations[l]
        layer_net, layer_out = [], []
        for a_prev in out[l - 1]:
            z = tuple(sum((w * a for w, a in zip(row, a_prev)), bj) for row, bj in zip(W, b))
            layer_net.append(z)
            values = tuple(evaluate(definition, {fn.z: zj}) for zj in z)
            if cross is not None:
                # softmax: each numerator e^{z_k} over the sum of them all
                total = sum(values[1:], values[0])
                values = tuple(v / total for v in values)
            layer_out.append(values)
        net.append(tuple(layer_net))
        out.append(tuple(layer_out))
    errors = tuple(
        tuple(evaluate(rules.loss_term, {fn.a: o, fn.t: t}) for o, t in zip(o_row, t_row))
        for o_row, t_row in zip(out[-1], rules.lift(spec.targets))
    )
    sample_losses = tuple(sum(row, Fraction(0)) for row in errors)
    loss = rules.batch_weight * sum(sample_losses, Fraction(0))
    return tuple(net), tuple(out), errors, sample_losses, loss


def run(spec: NetworkSpec, rules: Rules, weights=None, biases=None, certify: bool = True) -> Pass:
    """Forward pass, backward pass and one SGD update at the given parameters (default: the spec's).

    A rational network's products run on FLINT (exact, the same values). A non-rational
    network's pass runs on FLINT balls with every value certified to 30 digits
    (:mod:`derive.balls`); with ``certify`` false (the later steps of a long run,
    whose losses only are shown) on the 200-bit mpmath loops below, which are faster
    per small step.
    """
    weights = (None, *rules.lift(spec.weights)) if weights is None else weights
    biases = (None, *rules.lift(spec.biases)) if biases is None else biases
    if rules.exact and flintpass.available() and flintpass.exact_network(weights, biases):
        return flintpass.run(spec, rules, weights, biases, Pass)
    if certify and not rules.exact and balls.available():
        return balls.pass_of(spec, rules, weights, biases, Pass)
    targets = rules.lift(spec.targets)
    net, out, errors, sample_losses, loss = forward(spec, rules, weights, biases)
    L, N = spec.layers, spec.batch

    dE_dout, dout_dnet, delta = [()] * (L + 1), [()] * (L + 1), [()] * (L + 1)
    jacobian = [None] * (L + 1)
    for l in range(L, 0, -1):
        _, identity, cross = rules.activations[l]
        g_out, g_act, g_net, g_jac = [], [], [], []
        for s in range(N):
            if l == L:
                upstream = tuple(
                    evaluate(rules.dloss, {fn.a: o, fn.t: t}) for o, t in zip(out[L][s], targets[s])
                )
            else:
                # sum over every path through the layer above: d net_k/d out_j = W_kj
                above, W = delta[l + 1][s], weights[l + 1]
                upstream = tuple(
                    sum((above[k] * W[k][j] for k in range(len(above))), Fraction(0))
                    for j in range(spec.sizes[l])
                )
            local = tuple(
                evaluate(identity, {fn.a: a, fn.z: z}) for a, z in zip(out[l][s], net[l][s])
            )
            g_out.append(upstream)
            g_act.append(local)
            if cross is None:
                g_net.append(tuple(u * d for u, d in zip(upstream, local)))
                continue
            # softmax: every output depends on every net input, so delta_j sums over the outputs k
            o = out[l][s]
            J = tuple(
                tuple(local[k] if k == j else evaluate(cross, {fn.a: o[k], fn.b: o[j]}) for j in range(len(o)))
                for k in range(len(o))
            )
            g_jac.append(J)
            g_net.append(tuple(
                sum((upstream[k] * J[k][j] for k in range(1, len(o))), upstream[0] * J[0][j]) for j in range(len(o))
            ))
        dE_dout[l], dout_dnet[l], delta[l] = tuple(g_out), tuple(g_act), tuple(g_net)
        jacobian[l] = tuple(g_jac) if cross is not None else None

    grad_W, grad_b = [()], [()]
    for l in range(1, L + 1):
        # d net_j/d W_ji = out_i and d net_j/d b_j = 1; the batch reduction is its own factor
        grad_W.append(tuple(
            tuple(
                rules.batch_weight * sum((delta[l][s][j] * out[l - 1][s][i] for s in range(N)), Fraction(0))
                for i in range(spec.sizes[l - 1])
            )
            for j in range(spec.sizes[l])
        ))
        grad_b.append(tuple(
            rules.batch_weight * sum((delta[l][s][j] for s in range(N)), Fraction(0))
            for j in range(spec.sizes[l])
        ))

    eta = rules.lift(spec.learning_rate)
    new_W = [None] + [
        tuple(tuple(tame(w - eta * g) for w, g in zip(row, g_row)) for row, g_row in zip(weights[l], grad_W[l]))
        for l in range(1, L + 1)
    ]
    new_b = [None] + [
        tuple(tame(b - eta * g) for b, g in zip(biases[l], grad_b[l])) if spec.update_biases else biases[l]
        for l in range(1, L + 1)
    ]
    return Pass(
        weights=tuple(weights), biases=tuple(biases), net=net, out=out, errors=errors,
        sample_losses=sample_losses, loss=loss, dE_dout=tuple(dE_dout), dout_dnet=tuple(dout_dnet),
        jacobian=tuple(jacobian), delta=tuple(delta), grad_W=tuple(grad_W), grad_b=tuple(grad_b),
        new_weights=tuple(new_W), new_biases=tuple(new_b),
    )
