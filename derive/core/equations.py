"""The four equations of backpropagation, derived by SymPy from a layer's definitions, for any depth and width.

A layer is z^[l] = W^[l] a^[l-1] + b^[l], a^[l] = f(z^[l]), and the loss a sum of one
term per output. Written with SymPy's indexed symbols and sums of symbolic length,
every entry derivative the chain rule needs is SymPy's derivative of a definition:
dz_k/da_j = W_kj, dz_k/dW_jm = [j = k] a_m, dz_k/db_j = [j = k],
da_j/dz_k = [j = k] f'(z_j), and dE/da_j from the loss. Those entries give the
matrix equations

    delta^[L] = grad_a E (.) f'(z^[L]),   delta^[l] = ((W^[l+1])^T delta^[l+1]) (.) f'(z^[l]),
    dE/db^[l] = delta^[l],                dE/dW^[l] = delta^[l] (a^[l-1])^T,

specialised here to a spec's activations and loss (:func:`output_delta`), with the
reductions SymPy proves. :func:`check` confirms the entry derivatives on the concrete
network's graph, and :func:`apply` runs the equations with numbers, so that a test can
hold them against SymPy's direct derivative of the composed loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.core import functions as fn
from derive.core.general import reduces, tidy_error
from derive.core.graph import Graph
from derive.core.spec import NetworkSpec

#: indices and lengths, as the derivation writes them
i, j, k, m = sp.symbols("i j k m", integer=True, positive=True)
n, K = sp.symbols("n K", integer=True, positive=True)  # the width of the layer below; the number of outputs
W, A, B, Z, T = (sp.IndexedBase(name) for name in ("W", "a", "b", "z", "t"))


class EquationMismatch(AssertionError):
    """A derived equation disagrees with the network's own definitions: a bug in derive, never hidden."""


@dataclass(frozen=True)
class EntryDerivative:
    """d quantity/d variable for entries with symbolic indices: SymPy's derivative of the definition."""

    quantity: sp.Expr
    definition: sp.Expr
    variable: sp.Expr
    derivative: sp.Expr  # as SymPy writes it before summing (a sum of Kronecker deltas, say)
    result: sp.Expr  # the value for indices in range


def _in_range(expr: sp.Expr) -> sp.Expr:
    """The piece of SymPy's Piecewise that holds for indices within their ranges."""
    if isinstance(expr, sp.Piecewise):
        return expr.args[0][0]
    return expr


def entry(quantity, definition, variable) -> EntryDerivative:
    """SymPy's derivative of ``definition`` with respect to ``variable``, summed out."""
    raw = sp.diff(definition, variable)
    return EntryDerivative(quantity, definition, variable, raw, _in_range(raw.doit()))


def net_definition() -> sp.Expr:
    """z_k = sum_i W_ki a_i + b_k, over the n units of the layer below."""
    return sp.Sum(W[k, i] * A[i], (i, 1, n)) + B[k]


def net_by_input() -> EntryDerivative:
    """dz_k/da_j = W_kj."""
    return entry(Z[k], net_definition(), A[j])


def net_by_weight() -> EntryDerivative:
    """dz_k/dW_jm = [j = k] a_m."""
    return entry(Z[k], net_definition(), W[j, m])


def net_by_bias() -> EntryDerivative:
    """dz_k/db_j = [j = k]."""
    return entry(Z[k], net_definition(), B[j])


def loss_definition(spec: NetworkSpec) -> sp.Expr:
    """The loss of one sample as a sum over its K outputs (the batch reduction multiplies the gradients)."""
    loss = fn.LOSSES[spec.loss]
    weight = 1 / K if loss.output_reduction == "mean" else sp.Integer(1)
    return sp.Sum(weight * loss.term.xreplace({fn.a: A[k], fn.t: T[k]}), (k, 1, K))


def loss_by_out(spec: NetworkSpec) -> EntryDerivative:
    """dE/da_j of one sample: SymPy's derivative of the loss's sum over the outputs."""
    return entry(sp.Symbol("E"), loss_definition(spec), A[j])


def softmax_cross_entropy() -> tuple:
    """delta_j = sum_k dE/da_k da_k/dz_j for a softmax output with cross-entropy: its steps down to a_j - t_j.

    Each da_k/dz_j = a_k ([k = j] - a_j) (functions.check_identities proves it); the sum
    splits into -t_j + a_j (t_1 + ... + t_K), and the targets of a sample sum to 1.
    """
    summand = (-T[k] / A[k]) * A[k] * (sp.KroneckerDelta(k, j) - A[j])
    summed = sp.Sum(summand, (k, 1, K))
    # each term summed out: the Kronecker delta picks k = j, a_j leaves the sum it does not depend on
    done = sp.Add(*(sp.simplify(_in_range(term)) for term in sp.Add.make_args(sp.expand(summed).doit())))
    targets = sp.Sum(T[k], (k, 1, K))
    reduced = sp.expand(done.xreplace({targets: sp.Integer(1)}))
    if sp.expand(reduced - (A[j] - T[j])) != 0:
        raise EquationMismatch(f"softmax with cross-entropy: the sum gives {reduced}")
    return summed, done, reduced


@dataclass(frozen=True)
class OutputDelta:
    """delta^[L] of a spec entry by entry, in the placeholders of derive.core.functions (a, t, z).

    ``gradient`` is dE/da (with the mean's 1/K), ``derivative`` f'(z) in the taught form
    (None for a softmax), ``reduced`` the shorter form SymPy proves, or None.
    """

    gradient: sp.Expr
    derivative: sp.Expr | None
    reduced: sp.Expr | None
    uses: str  # the fact the reduction needs


def output_delta(spec: NetworkSpec) -> OutputDelta:
    """The output layer's delta for this spec's activation and loss."""
    act = fn.ACTIVATIONS[spec.activations[-1]]
    gradient = _in_range(loss_by_out(spec).result).xreplace({A[j]: fn.a, T[j]: fn.t})
    gradient = sp.factor_terms(gradient)
    if act.coupled:
        if spec.loss == "cross_entropy":
            softmax_cross_entropy()
            return OutputDelta(gradient, None, fn.a - fn.t, "the targets sum to 1")
        return OutputDelta(gradient, None, None, "")
    product = gradient * act.identity
    cancelled = sp.factor(sp.cancel(sp.together(product)))
    if reduces(product, cancelled, fn.a):
        return OutputDelta(gradient, act.identity, tidy_error(cancelled, fn.a, fn.t), "")
    return OutputDelta(gradient, act.identity, None, "")


# -- the entries on the concrete network ---------------------------------------------------------------

def check(graph: Graph, sample: int = 0) -> None:
    """The entry derivatives hold on this network's own definitions; EquationMismatch when one does not.

    Layer by layer: d net/d out of the layer below is the weight matrix, d net_j/d W_ji is
    the input out_i and 0 for every other unit, d out/d net is diagonal with the taught
    derivative on the diagonal (the softmax's full Jacobian is checked by the functions'
    registry), and dE/d out of each output is the loss entry.
    """
    spec = graph.spec
    s = sample
    for l in range(1, spec.layers + 1):
        nets = [sp.Add(*graph.net_terms(l, s, jj)) for jj in range(spec.sizes[l])]
        for jj, net in enumerate(nets):
            for ii in range(spec.sizes[l - 1]):
                if sp.diff(net, graph.out(l - 1, s, ii)) != graph.W(l, jj, ii):
                    raise EquationMismatch(f"d net/d out of layer {l} is not its weight matrix")
                for row in range(spec.sizes[l]):
                    want = graph.out(l - 1, s, ii) if row == jj else 0
                    if sp.diff(net, graph.W(l, row, ii)) != want:
                        raise EquationMismatch(f"d net/d W of layer {l} is not the outer product")
        act = graph.activation(l)
        if act.coupled:
            continue
        for jj in range(spec.sizes[l]):
            definition = graph.out_definition(l, s, jj)
            for kk in range(spec.sizes[l]):
                derivative = sp.diff(definition, graph.net(l, s, kk))
                if kk != jj and derivative != 0:
                    raise EquationMismatch(f"d out/d net of layer {l} is not diagonal")
            taught = graph.dout_dnet(l, s, jj).xreplace({graph.out(l, s, jj): definition})
            if not _equal(sp.diff(definition, graph.net(l, s, jj)), taught):
                raise EquationMismatch(f"the derivative of {act.name} in layer {l}")
    L = spec.layers
    weight = graph.output_weight
    term = fn.LOSSES[spec.loss].term
    for kk in range(spec.sizes[L]):
        out, target = graph.out(L, s, kk), graph.t(s, kk)
        direct = graph.dloss_dout(s, kk)
        entry_form = weight * sp.diff(term, fn.a).xreplace({fn.a: out, fn.t: target})
        if sp.simplify(direct - entry_form) != 0:
            raise EquationMismatch("dE/d out of the output layer")


def _equal(a, b) -> bool:
    difference = sp.piecewise_fold(a - b)
    if isinstance(difference, sp.Piecewise):
        return all(sp.simplify(piece) == 0 for piece, _ in difference.args)
    return sp.simplify(difference.rewrite(sp.exp)) == 0


# -- the equations with numbers --------------------------------------------------------------------

def _activate(act: fn.Activation, z: sp.Matrix) -> sp.Matrix:
    values = [act.definition.xreplace({fn.z: v}) for v in z]
    if act.coupled:
        total = sp.Add(*values)
        values = [v / total for v in values]
    return sp.Matrix(values)


def _derivative(act: fn.Activation, a_vec: sp.Matrix, z_vec: sp.Matrix) -> sp.Matrix:
    """f'(z) entry by entry, in the taught form."""
    return sp.Matrix([act.identity.xreplace({fn.a: av, fn.z: zv}) for av, zv in zip(a_vec, z_vec)])


def apply(spec: NetworkSpec, weights, biases, inputs, targets):
    """The gradients (dE/dW^[l], dE/db^[l] for l = 1..L) that the four equations give, as SymPy matrices.

    ``weights[l - 1]`` is W^[l] with one row per unit of layer l (out_in), ``inputs`` and
    ``targets`` one row per sample; the values may be numbers or symbols.
    """
    L = spec.layers
    acts = [fn.ACTIVATIONS[name] for name in spec.activations]
    loss = fn.LOSSES[spec.loss]
    out_weight = sp.Rational(1, spec.sizes[-1]) if loss.output_reduction == "mean" else sp.Integer(1)
    batch_weight = sp.Rational(1, len(inputs)) if loss.batch_reduction == "mean" else sp.Integer(1)
    Ws = [sp.Matrix(w) for w in weights]
    bs = [sp.Matrix(b) for b in biases]
    grad_W = [sp.zeros(*Ws[l].shape) for l in range(L)]
    grad_b = [sp.zeros(*bs[l].shape) for l in range(L)]
    for x, t in zip(inputs, targets):
        a = [sp.Matrix(x)]
        z = [None]
        for l in range(1, L + 1):
            z.append(Ws[l - 1] * a[l - 1] + bs[l - 1])
            a.append(_activate(acts[l - 1], z[l]))
        t = sp.Matrix(t)
        grad_a = sp.Matrix([out_weight * sp.diff(loss.term, fn.a).xreplace({fn.a: av, fn.t: tv})
                            for av, tv in zip(a[L], t)])
        if acts[-1].coupled:  # the full Jacobian diag(a) - a a^T, transposed (it is symmetric)
            jacobian = sp.diag(*a[L]) - a[L] * a[L].T
            delta = jacobian.T * grad_a
        else:  # BP1
            delta = grad_a.multiply_elementwise(_derivative(acts[-1], a[L], z[L]))
        deltas = {L: delta}
        for l in range(L - 1, 0, -1):  # BP2
            deltas[l] = (Ws[l].T * deltas[l + 1]).multiply_elementwise(_derivative(acts[l - 1], a[l], z[l]))
        for l in range(1, L + 1):  # BP3 and BP4
            grad_b[l - 1] += batch_weight * deltas[l]
            grad_W[l - 1] += batch_weight * deltas[l] * a[l - 1].T
    return grad_W, grad_b


def composed_loss(spec: NetworkSpec, weights, biases, inputs, targets) -> sp.Expr:
    """The loss as one expression of the parameters: every layer composed, nothing named in between."""
    acts = [fn.ACTIVATIONS[name] for name in spec.activations]
    loss = fn.LOSSES[spec.loss]
    out_weight = sp.Rational(1, spec.sizes[-1]) if loss.output_reduction == "mean" else sp.Integer(1)
    batch_weight = sp.Rational(1, len(inputs)) if loss.batch_reduction == "mean" else sp.Integer(1)
    total = sp.Integer(0)
    for x, t in zip(inputs, targets):
        a = sp.Matrix(x)
        for l, act in enumerate(acts):
            a = _activate(act, sp.Matrix(weights[l]) * a + sp.Matrix(biases[l]))
        total += out_weight * sp.Add(*(loss.term.xreplace({fn.a: av, fn.t: tv}) for av, tv in zip(a, t)))
    return batch_weight * total
