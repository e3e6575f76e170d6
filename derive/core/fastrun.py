"""The later steps of a long run on FLINT's arb numbers: the same arithmetic, in C, at 200 bits.

The documents show the first steps in full and only the loss of the later ones (and the
final parameters and state). Those later steps are the forward pass, the backward pass and
the optimizer's rule again and again; here they run on ``flint.arb`` balls at the 200-bit
precision of :mod:`derive.core.numeric` (about eight times faster per operation than mpmath),
with the optimizer's own rules (:mod:`derive.core.optimizers`) applied to arb values. The
parameters and state are carried from step to step as the balls' midpoints (200-bit floating point, as
on the mpmath path) and handed back as mpf.
For the squared-error losses and elementwise activations; anything else stays on the mpmath path.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from derive.core import functions as fn
from derive.core.numeric import MP, PREC_BITS, to_mp
from derive.core.optimizers import DISCARD

try:
    import flint
except ImportError:  # pragma: no cover - platforms without a python-flint wheel take the mpmath path
    flint = None

LOSSES = ("half_sse", "sse", "mse")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "identity")


def supported(spec) -> bool:
    """True when this module can run the spec's later steps."""
    names = set(spec.activations)
    leaky = {a for a in names if a.startswith("leaky_relu")}
    return flint is not None and spec.loss in LOSSES and names - leaky <= set(ACTIVATIONS)


def arb(x):
    """A Fraction, int or mpf as an arb (exact: the mpf's binary value, a Fraction's ball at 200 bits)."""
    if isinstance(x, Fraction):
        return flint.arb(flint.fmpq(x.numerator, x.denominator))
    if isinstance(x, int):
        return flint.arb(x)
    sign, man, exp, _ = to_mp(x)._mpf_  # (mpf.man_exp drops the sign)
    if not man:
        return flint.arb(0)
    return flint.arb(flint.fmpz(-man if sign else man)) * flint.arb(2) ** int(exp)


def mpf(x):
    """An arb's midpoint as a 200-bit mpf."""
    man, exp = x.mid().man_exp()
    return MP.mpf((int(man), int(exp))) if man else MP.mpf(0)


def _activation(name: str):
    """(function of net, derivative as a function of out and net) on arb values."""
    zero, one = flint.arb(0), flint.arb(1)
    if name == "sigmoid":
        return (lambda z: one / (one + (-z).exp())), (lambda a, z: a * (one - a))
    if name == "tanh":
        return (lambda z: z.tanh()), (lambda a, z: one - a * a)
    if name == "identity":
        return (lambda z: z), (lambda a, z: one)
    slope = zero if name == "relu" else arb(Fraction(fn.ACTIVATIONS[name].name.partition("(")[2].rstrip(")")
                                                     or fn.LEAKY_SLOPE))
    # derivative 0 (or the slope) at 0, as PyTorch; a ball straddling 0 counts by its midpoint
    return ((lambda z: z if z.mid() > 0 else z * slope),
            (lambda a, z: one if z.mid() > 0 else slope))


def run(spec, settings, training, batches, weights, biases, state, keys, first: int, last: int):
    """Steps ``first`` to ``last`` (from 1) from the given parameters and state.

    Returns (the whole data's loss before each step and after the last, each step's mini-batch loss,
    weights, biases, state), the values as mpf.
    """
    saved = flint.ctx.prec
    flint.ctx.prec = PREC_BITS
    try:
        return _run(spec, settings, training, batches, weights, biases, state, keys, first, last)
    finally:
        flint.ctx.prec = saved


def _run(spec, settings, training, batches, weights, biases, state, keys, first, last):
    L, sizes = spec.layers, spec.sizes
    acts = [None] + [_activation(name) for name in spec.activations]
    W = [None] + [[[arb(w) for w in row] for row in weights[l]] for l in range(1, L + 1)]
    b = [None] + [[arb(x) for x in biases[l]] for l in range(1, L + 1)]
    X = [[arb(x) for x in row] for row in spec.inputs]
    T = [[arb(x) for x in row] for row in spec.targets]
    # a zero stays a plain 0: the rules test "if momentum:", and a ball is never plainly false
    values = tuple((k, v if isinstance(v, bool) or not v else arb(v)) for k, v in settings.values)
    s = replace(settings, values=values, lr=arb(settings.lr))
    entry = s.entry
    st = {key: {k: arb(v) for k, v in state[key].items()} for key in keys}
    decay = s.get("weight_decay", 0)
    l2 = arb(training.l2)
    K = sizes[-1]
    # the loss of one output and its derivative, with the mean's 1/K; the batch's 1/N below
    half, two = flint.arb(1) / 2, flint.arb(2)
    per_output = {"half_sse": (half, flint.arb(1)), "sse": (flint.arb(1), two),
                  "mse": (flint.arb(1) / K, two / K)}[spec.loss]

    def penalty():
        if not training.l2:
            return flint.arb(0)
        total = flint.arb(0)
        for l in range(1, L + 1):
            for row in W[l]:
                for w in row:
                    total += w * w
            if training.decay_for("b"):
                for x in b[l]:
                    total += x * x
        return l2 / 2 * total

    def forward(samples):
        outs, nets, loss = [], [], flint.arb(0)
        for smp in samples:
            a, zs, as_ = X[smp], [None], [X[smp]]
            for l in range(1, L + 1):
                f = acts[l][0]
                z = [sum((w * x for w, x in zip(W[l][j], a)), b[l][j]) for j in range(sizes[l])]
                a = [f(zj) for zj in z]
                zs.append(z)
                as_.append(a)
            for o, t in zip(a, T[smp]):
                loss += per_output[0] * (t - o) * (t - o)
            outs.append(as_)
            nets.append(zs)
        weight = flint.arb(1) / len(samples) if spec.loss == "mse" else flint.arb(1)
        return outs, nets, loss * weight, weight

    history, batch_losses = [], []
    everything = tuple(range(spec.batch))
    for t in range(first, last + 1):
        batch = batches[(t - 1) % len(batches)]
        outs, nets, loss, weight = forward(batch)
        term = penalty()
        batch_losses.append(loss + term)
        history.append(loss + term if batch == everything else forward(everything)[2] + term)
        gW = [None] + [[[flint.arb(0)] * sizes[l - 1] for _ in range(sizes[l])] for l in range(1, L + 1)]
        gb = [None] + [[flint.arb(0)] * sizes[l] for l in range(1, L + 1)]
        for k, smp in enumerate(batch):
            a_s, z_s = outs[k], nets[k]
            delta = [per_output[1] * (o - t_) for o, t_ in zip(a_s[L], T[smp])]
            for l in range(L, 0, -1):
                d_act = acts[l][1]
                delta = [d * d_act(a, z) for d, a, z in zip(delta, a_s[l], z_s[l])]
                for j in range(sizes[l]):
                    dj = delta[j] * weight
                    row = gW[l][j]
                    for i in range(sizes[l - 1]):
                        row[i] += dj * a_s[l - 1][i]
                    gb[l][j] += dj
                if l > 1:
                    delta = [sum((delta[j] * W[l][j][i] for j in range(sizes[l])), flint.arb(0))
                             for i in range(sizes[l - 1])]
        for key in keys:
            kind, l, j, i = key
            regular = training.decay_for(kind)
            p = W[l][j][i] if kind == "W" else b[l][j]
            g = gW[l][j][i] if kind == "W" else gb[l][j]
            update = entry.step(s, p, g, st[key], t, decay if regular else 0, l2 if regular and training.l2 else 0,
                                DISCARD)
            # carried on as midpoints: 200-bit floating point, as the mpmath path (radii grown over thousands
            # of steps would swallow a second moment near 0)
            st[key] = {k: v.mid() for k, v in update.after.items()}
            if kind == "W":
                W[l][j][i] = update.new.mid()
            else:
                b[l][j] = update.new.mid()
    history.append(forward(everything)[2] + penalty())
    as_mp = lambda rows: tuple(tuple(mpf(x) for x in row) for row in rows)
    weights = (None, *(as_mp(W[l]) for l in range(1, L + 1)))
    biases = (None, *(tuple(mpf(x) for x in b[l]) for l in range(1, L + 1)))
    state = {key: {k: mpf(v) for k, v in st[key].items()} for key in keys}
    return [mpf(x) for x in history], [mpf(x) for x in batch_losses], weights, biases, state

