"""Exact arithmetic on FLINT: the products of a rational network's pass as ``fmpq_mat`` products.

The forward pass ``Z = W A + b``, the paths back ``W^T Delta``, the gradients as
outer products ``Delta A^T`` (summed over the batch in the same product) and the
update ``W - eta G`` are exact rational matrix products in FLINT, as SymPy itself
can use for its ground types. Elementwise steps (the activation, its derivative,
the loss) still put numbers into SymPy's expressions, unit by unit. The values
are the same rationals as Python's ``Fraction`` arithmetic gives (exact is
exact); they are handed on as ``Fraction``, and the FLINT matrices ride along for
the verifier (:class:`Matrices`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from derive.core import functions as fn
from derive.core.numeric import MAX_EXACT_BITS, evaluate, tame

try:
    import flint
except ImportError:  # pragma: no cover - platforms without a python-flint wheel use backprop's own loops
    flint = None


def available() -> bool:
    """True when python-flint can be imported."""
    return flint is not None


_new = object.__new__


def fraction(q) -> Fraction:
    """A FLINT fmpq as a Fraction: FLINT keeps it in lowest terms, so the slots are set directly
    (Fraction's constructor would check the types and take the gcd again, twice the time)."""
    f = _new(Fraction)
    f._numerator = int(q.p)
    f._denominator = int(q.q)
    return f


if flint is not None and fraction(flint.fmpq(-6, 4)) != Fraction(-3, 2):  # pragma: no cover - another Fraction
    def fraction(q) -> Fraction:  # noqa: F811 - the constructor, where the slots are not Fraction's
        """A FLINT fmpq as a Fraction."""
        return Fraction(int(q.p), int(q.q))


def fmpq(x) -> "flint.fmpq":
    """A Fraction (or int) as a FLINT fmpq."""
    return flint.fmpq(x.numerator, x.denominator)


def matrix(rows) -> "flint.fmpq_mat":
    """Nested rows of Fractions as an fmpq_mat."""
    rows = [r for r in rows]
    cols = len(rows[0]) if rows else 0
    return flint.fmpq_mat(len(rows), cols, [fmpq(x) for r in rows for x in r])


def column(values) -> "flint.fmpq_mat":
    return flint.fmpq_mat(len(values), 1, [fmpq(x) for x in values])


def rows(m) -> tuple:
    """An fmpq_mat as nested tuples of Fractions."""
    n = m.ncols()
    flat = [fraction(q) for q in m.entries()]
    return tuple(tuple(flat[r * n:(r + 1) * n]) for r in range(m.nrows()))


class Layers(tuple):
    """Per-layer weights or biases as nested tuples of Fractions, with their FLINT matrices kept beside them."""

    matrices: tuple

    @classmethod
    def make(cls, values, matrices):
        made = cls(values)
        made.matrices = tuple(matrices)
        return made


@dataclass(frozen=True)
class Matrices:
    """One pass's values as FLINT matrices, indexed by layer: weights (out x in), outputs (units x samples)."""

    weights: tuple
    out: tuple
    grad_W: tuple
    grad_b: tuple  # columns


def _weights(values, L):
    """The FLINT matrices of per-layer weights (kept from the previous step when they are there)."""
    if isinstance(values, Layers):
        return values.matrices
    return (None, *(matrix(values[l]) for l in range(1, L + 1)))


def _biases(values, L):
    if isinstance(values, Layers):
        return values.matrices
    return (None, *(column(values[l]) for l in range(1, L + 1)))


def exact_network(weights, biases) -> bool:
    """True when every parameter is still a rational (tame() turns an outgrown one into a float)."""
    if not isinstance(weights, Layers):
        if not all(type(x) is Fraction for W in weights[1:] for row in W for x in row):
            return False
    if not isinstance(biases, Layers):
        if not all(type(x) is Fraction for b in biases[1:] for x in b):
            return False
    return True


def forward(spec, rules, weights, biases):
    """net, out, errors, sample losses and loss as backprop.forward gives them; then the matrices."""
    L, N = spec.layers, spec.batch
    Wm, bm = _weights(weights, L), _biases(biases, L)
    ones = flint.fmpq_mat(1, N, [1] * N)
    inputs = rules.lift(spec.inputs)
    A = [flint.fmpq_mat(spec.sizes[0], N, [fmpq(inputs[s][i]) for i in range(spec.sizes[0]) for s in range(N)])]
    net, out = [()], [inputs]
    for l in range(1, L + 1):
        Z = Wm[l] * A[l - 1] + bm[l] * ones
        definition, _, cross = rules.activations[l]
        z_rows = rows(Z.transpose())  # [s][j]
        net.append(z_rows)
        if definition == fn.z:  # identity: out is net
            out.append(z_rows)
            A.append(Z)
            continue
        values = tuple(tuple(evaluate(definition, {fn.z: zj}) for zj in row) for row in z_rows)
        out.append(values)
        A.append(matrix(values).transpose())
    targets = rules.lift(spec.targets)
    errors = tuple(
        tuple(evaluate(rules.loss_term, {fn.a: o, fn.t: t}) for o, t in zip(o_row, t_row))
        for o_row, t_row in zip(out[-1], targets)
    )
    sample_losses = tuple(sum(row, Fraction(0)) for row in errors)
    loss = rules.batch_weight * sum(sample_losses, Fraction(0))
    return tuple(net), tuple(out), errors, sample_losses, loss, Wm, bm, A


def run(spec, rules, weights, biases, Pass, handed_on: bool = True):
    """The pass of backprop.run for a rational network, its products on FLINT; same values, as Fractions.

    With ``handed_on`` false, only the FLINT matrices of the gradients and updated parameters are
    returned (the step itself, without converting its 2 x parameters values to Fractions).
    """
    L, N = spec.layers, spec.batch
    net, out, errors, sample_losses, loss, Wm, bm, A = forward(spec, rules, weights, biases)
    targets = rules.lift(spec.targets)

    dE_dout, dout_dnet, delta = [()] * (L + 1), [()] * (L + 1), [()] * (L + 1)
    D = [None] * (L + 1)  # delta per layer as (units x samples)
    for l in range(L, 0, -1):
        _, identity, _ = rules.activations[l]
        if l == L:
            upstream = tuple(
                tuple(evaluate(rules.dloss, {fn.a: o, fn.t: t}) for o, t in zip(out[L][s], targets[s]))
                for s in range(N)
            )
        else:
            upstream = rows((Wm[l + 1].transpose() * D[l + 1]).transpose())  # [s][j]: every path above, summed
        local = tuple(tuple(evaluate(identity, {fn.a: a, fn.z: z}) for a, z in zip(out[l][s], net[l][s]))
                      for s in range(N))
        d = tuple(tuple(u * g for u, g in zip(up, lo)) for up, lo in zip(upstream, local))
        dE_dout[l], dout_dnet[l], delta[l] = upstream, local, d
        D[l] = matrix(d).transpose()

    bw, eta = fmpq(rules.batch_weight), fmpq(rules.lift(spec.learning_rate))
    ones_col = flint.fmpq_mat(N, 1, [1] * N)
    gW, gb, newW, newb = [None], [None], [None], [None]
    for l in range(1, L + 1):
        gW.append(D[l] * A[l - 1].transpose() * bw)
        gb.append(D[l] * ones_col * bw)
        newW.append(Wm[l] - gW[l] * eta)
        newb.append(bm[l] - gb[l] * eta if spec.update_biases else bm[l])
    if not handed_on:
        return gW, gb, newW, newb
    grad_W = (None, *(rows(gW[l]) for l in range(1, L + 1)))
    grad_b = (None, *(tuple(r[0] for r in rows(gb[l])) for l in range(1, L + 1)))
    new_weights = _updated(newW, L, False)
    new_biases = _updated(newb, L, True) if spec.update_biases else biases
    return Pass(
        weights=tuple(weights), biases=tuple(biases), net=net, out=out, errors=errors,
        sample_losses=sample_losses, loss=loss, dE_dout=tuple(dE_dout), dout_dnet=tuple(dout_dnet),
        jacobian=(None,) * (L + 1), delta=tuple(delta), grad_W=((), *grad_W[1:]),
        grad_b=((), *grad_b[1:]), new_weights=new_weights, new_biases=new_biases,
        matrices=Matrices(Wm, tuple(A), tuple(gW), tuple(gb)),
    )


def _updated(mats, L, vector: bool):
    """Updated parameters as Fractions (with their matrices), each kept exact unless it outgrew MAX_EXACT_BITS."""
    values = [None]
    tamed = False
    for l in range(1, L + 1):
        m = mats[l]
        r = rows(m)
        if vector:
            r = tuple(x[0] for x in r)
        if m.numer_denom()[1].bit_length() > MAX_EXACT_BITS:
            # a common denominator this long may hide an entry that tame() turns into a float
            r = tuple(tame(x) for x in r) if vector else tuple(tuple(tame(x) for x in row) for row in r)
            tamed = True
        values.append(r)
    if tamed:
        return tuple(values)
    return Layers.make(values, mats)
