"""The oracle for deep and wide networks: local derivatives at the point, then forward mode.

Composing the whole loss as one SymPy expression grows with every layer; this
check is linear in depth and in batch size and stays independent of the backward
sweep it checks:

1. every layer's local derivatives, taken at the point, equal SymPy's derivative
   of that layer's definition (the activation's ``diff`` in z, the softmax
   quotient's in every net input, the loss term's in the output), and every net
   input and output equals its definition with the numbers put in;
2. derivatives are then pushed *forward* from each parameter to the loss
   (tangents, the opposite order of the sweep): ``dnet = W dout + dW out + db``,
   ``dout = f'(net) dnet``, for a fixed sample of parameters (unit directions) and
   for random directions through every parameter at once, and each must equal
   the sweep's gradient (or its sum weighted by the direction).

Products are FLINT matrices: ``fmpq_mat`` for rational networks (exact), ``arb_mat``
balls otherwise, at a precision raised until the comparison is decided.
"""

from __future__ import annotations

import random
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from derive.core import functions as fn
from derive.core.derivation import ChainRuleMismatch, _same
from derive.core.numeric import MP, evaluate, is_exact, to_mp

try:  # python-flint; without it the same products run on nested lists (slower, same values)
    import flint
except ImportError:  # pragma: no cover - exercised only where python-flint has no wheel
    flint = None

#: random directions through every parameter
DIRECTIONS = 2
#: working precisions (bits) of the ball arithmetic, tried in turn until a comparison is decided
PRECISIONS = (320, 1024, 4096)


def check_locals(spec, rules, run, backend=None) -> None:
    """Every net input, output and local derivative of the sweep against the layer's definition at the point.

    ``backend`` (from :func:`backend`) may be shared with :func:`check_forward`: it converts each weight matrix once.
    """
    backend = backend or _backend(rules)
    if flint is not None and not rules.exact:
        with _precision(PRECISIONS[0]):
            return _check_locals(spec, rules, run, backend)
    return _check_locals(spec, rules, run, backend)


def _check_locals(spec, rules, run, backend) -> None:
    targets = rules.lift(spec.targets)
    for l in range(1, spec.layers + 1):
        act = fn.ACTIVATIONS[spec.activations[l - 1]]
        # net = W out + b for every sample at once, from the weights and the layer below
        Z = backend.add(backend.mul(_weights(run, l, backend), _outs(run, l - 1, backend)),
                        backend.matrix([[x] * spec.batch for x in run.biases[l]]))
        nets = backend.rows(Z)
        for s in range(spec.batch):
            net, out = run.net[l][s], run.out[l][s]
            for j in range(len(net)):
                _expect(backend.value(nets[j][s]), net[j], f"net of unit {j + 1} in layer {l}, sample {s + 1}")
            if act.coupled:
                _check_softmax(act, l, s, net, out, run)
                continue
            derivative = _derivative(act.name)
            for j, zj in enumerate(net):
                _expect(evaluate(act.definition, {fn.z: zj}), out[j], f"out of unit {j + 1} in layer {l}")
                _expect(evaluate(derivative, {fn.z: zj}), run.dout_dnet[l][s][j],
                        f"d out/d net of unit {j + 1} in layer {l}, sample {s + 1}")
    L = spec.layers
    dloss = sp.diff(rules.loss_term, fn.a)
    for s in range(spec.batch):
        for k, (o, t) in enumerate(zip(run.out[L][s], targets[s])):
            _expect(evaluate(dloss, {fn.a: o, fn.t: t}), run.dE_dout[L][s][k], f"dE/d out of output {k + 1}")


@lru_cache(maxsize=None)
def _derivative(name: str) -> sp.Expr:
    """SymPy's derivative of an activation's definition, in z."""
    return sp.diff(fn.ACTIVATIONS[name].definition, fn.z)


@lru_cache(maxsize=None)
def _softmax_jacobian(name: str, width: int):
    """(net symbols, outputs, d out_k/d net_j) of a coupled activation on ``width`` net inputs, by SymPy."""
    act = fn.ACTIVATIONS[name]
    nets = sp.symbols(f"z1:{width + 1}", real=True)
    numerators = [act.definition.xreplace({fn.z: zk}) for zk in nets]
    outs = [num / sp.Add(*numerators) for num in numerators]
    return nets, outs, [[sp.diff(outs[k], nets[j]) for j in range(width)] for k in range(width)]


def _check_softmax(act, l, s, net, out, run) -> None:
    nets, outs, jacobian = _softmax_jacobian(act.name, len(net))
    env = dict(zip(nets, net))
    memo: dict = {}
    for k in range(len(net)):
        _expect(evaluate(outs[k], env, memo), out[k], f"out of unit {k + 1} in layer {l}")
        for j in range(len(net)):
            _expect(evaluate(jacobian[k][j], env, memo), run.jacobian[l][s][k][j],
                    f"d out_{k + 1}/d net_{j + 1} in layer {l}, sample {s + 1}")


def _backend(rules):
    if flint is None:
        return _Lists(rules.exact)
    return _Flint(rules.exact)


backend = _backend


def _weights(run, l, backend):
    """Layer l's weights as the backend's matrix (the sweep's own FLINT matrix when it has one)."""
    if run.matrices is not None and isinstance(backend, _Flint) and backend.exact:
        return run.matrices.weights[l]
    if isinstance(backend, _Flint):
        return backend.converted(run.weights[l])
    return backend.matrix(run.weights[l])


def _outs(run, l, backend):
    """Layer l's outputs as (units x samples)."""
    if run.matrices is not None and isinstance(backend, _Flint) and backend.exact:
        return run.matrices.out[l]
    return backend.matrix(list(zip(*run.out[l])))


def _expect(value, sweep, what: str) -> None:
    if not _same(value, sweep):
        raise ChainRuleMismatch(f"{what}: the definition gives {value}, the sweep gave {sweep}")


# -- forward mode ----------------------------------------------------------------------

class _Lists:
    """Matrices as nested lists of Fraction or mpf: the products without python-flint."""

    def __init__(self, exact: bool):
        self.exact = exact

    def number(self, x):
        return x if self.exact or not is_exact(x) else to_mp(x)

    def matrix(self, rows):
        return [[self.number(x) for x in row] for row in rows]

    def mul(self, A, B):
        cols = list(zip(*B))
        return [[sum((a * b for a, b in zip(row, col)), Fraction(0)) for col in cols] for row in A]

    def add(self, A, B):
        return [[a + b for a, b in zip(ra, rb)] for ra, rb in zip(A, B)]

    def rows(self, A):
        return A

    def scale(self, A, x):
        return [[a * x for a in row] for row in A]

    def dot(self, xs, ys):
        return sum((x * y for x, y in zip(xs, ys)), Fraction(0))

    def dots(self, rows, ys):
        return [self.dot(row, ys) for row in rows]

    def value(self, x):
        return x


class _Flint:
    """Matrices as FLINT ``fmpq_mat`` (exact) or ``arb_mat`` (balls at the context's precision)."""

    def __init__(self, exact: bool):
        self.exact = exact
        self.mat = flint.fmpq_mat if exact else flint.arb_mat
        self._converted = {}  # (id(rows), precision) -> (rows, matrix)

    def converted(self, rows):
        """matrix(rows), made once per backend and precision for the same rows (a weight matrix both checks read)."""
        key = (id(rows), None if self.exact else flint.ctx.prec)
        hit = self._converted.get(key)
        if hit is None or hit[0] is not rows:
            hit = self._converted[key] = (rows, self.matrix(rows))
        return hit[1]

    def number(self, x):
        kind = type(x)
        if kind is Fraction:
            x = flint.fmpq(x.numerator, x.denominator)
            return x if self.exact else flint.arb(x)
        if self.exact or kind is int or kind is flint.arb:
            return x  # FLINT's matrices take ints as they are
        return flint.arb(x)

    def matrix(self, rows):
        rows = [list(r) for r in rows]
        n = len(rows[0]) if rows else 0
        # FLINT converts ints, mpf and balls itself (faster than one by one here); a Fraction needs fmpq
        number = self.number
        return self.mat(len(rows), n, [number(x) if type(x) is Fraction else x for r in rows for x in r])

    def mul(self, A, B):
        return A * B

    def add(self, A, B):
        return A + B

    def rows(self, A):
        return A.tolist()

    def scale(self, A, x):
        return A * self.number(x)

    def value(self, x):
        """A result back as the sweep's type: Fraction, or the ball's midpoint as an mpf."""
        if self.exact:
            return Fraction(int(x.p), int(x.q))
        return to_mp(_mid(x))

    def dots(self, rows, ys):
        """Each row's dot product with ``ys`` (one matrix product)."""
        column = self.matrix([y] for y in ys)
        return (self.matrix(rows) * column).entries()


def unit_columns(spec, keys):
    """Where each sampled parameter seeds its tangent: {layer: [(column, unit, source or None)]}."""
    seeds: dict = {}
    for c, (kind, l, j, i) in enumerate(keys):
        seeds.setdefault(l, []).append((c, j, i if kind == "W" else None))
    return seeds


def directions(spec, count: int = DIRECTIONS):
    """Random integer directions (fixed seed: the same check every time): ``count`` through every
    parameter, then one through each layer's parameters alone (so that a layer whose gradients are
    small beside the others', as in a deep sigmoid network, is still compared to 30 digits)."""
    rng = random.Random(20260115)
    L = spec.layers

    digits = range(-9, 10)

    def layer(l):
        n = spec.sizes[l - 1]
        flat = rng.choices(digits, k=n * spec.sizes[l])
        return [flat[j * n:(j + 1) * n] for j in range(spec.sizes[l])], rng.choices(digits, k=spec.sizes[l])

    made = []
    for _ in range(count):
        drawn = [None] + [layer(l) for l in range(1, L + 1)]
        made.append(([None] + [d[0] for d in drawn[1:]], [None] + [d[1] for d in drawn[1:]]))
    if L > 1:
        for only in range(1, L + 1):
            W, b = layer(only)
            made.append(([None] + [W if l == only else None for l in range(1, L + 1)],
                         [None] + [b if l == only else None for l in range(1, L + 1)]))
    return made


def forward_mode(spec, rules, run, keys, dirs, backend):
    """d loss along each unit direction in ``keys`` and each of ``dirs``, pushed forward through the layers."""
    L, N = spec.layers, spec.batch
    P = len(keys) + len(dirs)
    seeds = unit_columns(spec, keys)
    m = backend
    W = [None] + [_weights(run, l, m) for l in range(1, L + 1)]
    # each layer's outputs as a matrix with the samples as columns, for the directions' seeds
    A = [_outs(run, l, m) for l in range(L)]
    dir_seeds = [None]
    for l in range(1, L + 1):
        per_dir = []
        for RW, Rb in dirs:
            if RW[l] is None:
                per_dir.append(None)
                continue
            moved = m.rows(m.mul(m.matrix(RW[l]), A[l - 1]))  # (units x samples)
            per_dir.append([[moved[j][s] + Rb[l][j] for s in range(N)] for j in range(spec.sizes[l])])
        dir_seeds.append(per_dir)
    zero = Fraction(0)
    total = None
    for s in range(N):
        T = None
        for l in range(1, L + 1):
            width = spec.sizes[l]
            seed = [[zero] * P for _ in range(width)]
            for c, j, i in seeds.get(l, ()):
                seed[j][c] = run.out[l - 1][s][i] if i is not None else Fraction(1)
            for d, moved in enumerate(dir_seeds[l]):
                if moved is None:
                    continue
                for j in range(width):
                    seed[j][len(keys) + d] = moved[j][s]
            X = m.matrix(seed) if T is None else m.add(m.mul(W[l], T), m.matrix(seed))
            if run.jacobian[l] is not None:
                local = m.matrix(run.jacobian[l][s])
            else:
                d = run.dout_dnet[l][s]
                local = m.matrix([[d[j] if k == j else zero for k in range(width)] for j in range(width)])
            T = m.mul(local, X)
        g = m.mul(m.matrix([run.dE_dout[L][s]]), T)
        total = g if total is None else m.add(total, g)
    return m.rows(m.scale(total, rules.batch_weight))[0]


def swept(spec, run, keys, dirs, backend):
    """The sweep's values of the same derivatives: gradients, and their sums along each direction."""
    values = [run.grad_W[l][j][i] if kind == "W" else run.grad_b[l][j] for kind, l, j, i in keys]
    mats = run.matrices if isinstance(backend, _Flint) and backend.exact else None
    totals = [Fraction(0)] * len(dirs)
    for l in range(1, spec.layers + 1):
        through = [d for d, (RW, _) in enumerate(dirs) if RW[l] is not None]
        if not through:
            continue
        if mats is not None:
            grads = mats.grad_W[l].entries() + mats.grad_b[l].entries()
        else:
            grads = [g for row in run.grad_W[l] for g in row] + list(run.grad_b[l])
        # every direction through this layer against its gradients at once: they are converted once
        rows = [[r for row in dirs[d][0][l] for r in row] + dirs[d][1][l] for d in through]
        for d, along in zip(through, backend.dots(rows, grads)):
            totals[d] = totals[d] + backend.value(along)
    return values + totals


def check_forward(spec, rules, run, keys, dirs, backend=None) -> None:
    """Forward-mode derivatives along the sampled parameters and directions against the sweep's."""
    names = [f"{kind}{l}[{j}][{i}]" for kind, l, j, i in keys] + [f"direction {d + 1}" for d in range(len(dirs))]
    backend = backend or _backend(rules)
    if not isinstance(backend, _Flint) or rules.exact:
        expected = swept(spec, run, keys, dirs, backend)
        found = forward_mode(spec, rules, run, keys, dirs, backend)
        for name, got, want in zip(names, found, expected):
            got = backend.value(got)
            if not _same(want, got):
                raise ChainRuleMismatch(f"{name}: chain rule {want} != forward-mode derivative {got}")
        return
    for prec in PRECISIONS:
        with _precision(prec):
            expected = swept(spec, run, keys, dirs, backend)
            balls = forward_mode(spec, rules, run, keys, dirs, backend)
            undecided = False
            for name, ball, want in zip(names, balls, expected):
                got = backend.value(ball)
                if _same(want, got):
                    continue
                if ball.contains(backend.number(want)) or ball.rad() > abs(ball.mid()) * flint.arb(10) ** -30:
                    undecided = True  # too wide to tell at this precision
                    continue
                raise ChainRuleMismatch(f"{name}: chain rule {want} != forward-mode derivative {got}")
            if not undecided:
                return
    raise ChainRuleMismatch("the forward-mode derivatives stay too wide to compare at 4096 bits")


def _mid(ball):
    """A ball's midpoint as an mpf of derive's context."""
    man, exp = ball.mid().man_exp()
    return MP.mpf((int(man), int(exp)))


class _precision:
    """FLINT's working precision raised for a block, then restored."""

    def __init__(self, bits: int):
        self.bits = bits

    def __enter__(self):
        self.saved = flint.ctx.prec
        flint.ctx.prec = self.bits

    def __exit__(self, *exc):
        flint.ctx.prec = self.saved
