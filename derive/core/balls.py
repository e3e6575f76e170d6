"""Ball arithmetic on FLINT (arb): a non-rational network's pass with every value's error bounded.

Sigmoid, tanh, softmax and the logarithms of the cross-entropies are not rational,
so their values are balls: a midpoint and a radius that provably contains the
true value. The pass runs with ``arb_mat`` products and the SymPy definitions
compiled to arb functions, at a working precision raised until every value's
radius is below half a unit of its ``DIGITS``-th significant digit: every one of
those digits is then proven (:func:`certified`). The rest of derive receives the
midpoints as mpf of its 200-bit context (see :mod:`derive.numeric`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from derive.core import functions as fn
from derive.core.numeric import MP, PREC_BITS

try:
    import flint
except ImportError:  # pragma: no cover - platforms without a python-flint wheel keep numeric.py's mpmath
    flint = None

#: significant digits every value is certified to
DIGITS = 30
#: working precisions tried in turn (bits); the first is above the 200 bits the midpoints are handed on with
PRECISIONS = (256, 512, 1024, 2048, 4096)


def available() -> bool:
    return flint is not None


# -- SymPy expressions as arb functions -------------------------------------------------

@lru_cache(maxsize=None)
def compiled(expr: sp.Expr):
    """A function of an environment (symbol -> arb) equal to the expression, on balls."""
    return _compile(expr)


def _compile(expr):
    if expr.is_Symbol:
        return lambda env: env[expr]
    if expr.is_Rational:
        value = Fraction(int(expr.p), int(expr.q))
        q = flint.fmpq(value.numerator, value.denominator)
        return lambda env: flint.arb(q)
    if expr.is_Add or expr.is_Mul:
        parts = [_compile(a) for a in expr.args]
        if expr.is_Add:
            def add(env):
                total = parts[0](env)
                for p in parts[1:]:
                    total = total + p(env)
                return total
            return add

        def mul(env):
            total = parts[0](env)
            for p in parts[1:]:
                total = total * p(env)
            return total
        return mul
    if expr.is_Pow and expr.args[1].is_Integer:
        base, n = _compile(expr.args[0]), int(expr.args[1])
        if n == -1:
            return lambda env: 1 / base(env)
        return lambda env: base(env) ** n
    if isinstance(expr, (sp.exp, sp.log, sp.tanh)):
        arg = _compile(expr.args[0])
        if isinstance(expr, sp.exp):
            return lambda env: arg(env).exp()
        if isinstance(expr, sp.tanh):
            return lambda env: arg(env).tanh()

        def log(env):
            x = arg(env)
            if not x > 0:
                raise ValueError("logarithm of a value that is not positive")
            return x.log()
        return log
    if isinstance(expr, sp.Piecewise):
        branches = [(_compile(piece), _condition(c)) for piece, c in expr.args]

        def piecewise(env):
            for piece, holds in branches:
                if holds(env):
                    return piece(env)
            raise ValueError(f"no branch of {expr} applies")
        return piecewise
    raise TypeError(f"no ball arithmetic for {type(expr).__name__}: {expr}")


class Undecided(ArithmeticError):
    """A comparison a ball cannot decide at this precision (it holds the boundary)."""


_SIGNS = {sp.StrictGreaterThan: (1,), sp.GreaterThan: (1, 0), sp.StrictLessThan: (-1,), sp.LessThan: (-1, 0),
          sp.Equality: (0,), sp.Unequality: (1, -1)}


def _condition(c):
    if c is sp.true:
        return lambda env: True
    if c is sp.false:
        return lambda env: False
    if isinstance(c, (sp.And, sp.Or)):
        parts = [_condition(a) for a in c.args]
        if isinstance(c, sp.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if type(c) not in _SIGNS:
        raise TypeError(f"no ball arithmetic for the condition {c}")
    left, right, wanted = _compile(c.args[0]), _compile(c.args[1]), _SIGNS[type(c)]

    def holds(env):
        d = left(env) - right(env)
        sign = 1 if d > 0 else -1 if d < 0 else 0 if d.is_exact() and d.is_zero() else None
        if sign is None:
            raise Undecided(str(c))
        return sign in wanted
    return holds


# -- the pass -----------------------------------------------------------------------------

@dataclass(frozen=True)
class BallPass:
    """Every value of one pass as arb balls, indexed as :class:`derive.backprop.Pass`; ``prec`` in bits."""

    net: tuple
    out: tuple
    errors: tuple
    sample_losses: tuple
    loss: object
    dE_dout: tuple
    dout_dnet: tuple
    jacobian: tuple
    delta: tuple
    grad_W: tuple
    grad_b: tuple
    new_weights: tuple
    new_biases: tuple
    prec: int

    def values(self) -> list:
        """Every ball of the pass."""
        found = []

        def walk(x):
            if isinstance(x, (tuple, list)):
                if any(isinstance(v, (tuple, list)) for v in x):
                    for v in x:
                        walk(v)
                else:  # a row of values: taken at once (a large layer has many)
                    found.extend(v for v in x if v is not None)
            elif x is not None:
                found.append(x)
        for name in ("net", "out", "errors", "sample_losses", "loss", "dE_dout", "dout_dnet", "jacobian", "delta",
                     "grad_W", "grad_b", "new_weights", "new_biases"):
            walk(getattr(self, name))
        return found


def ball(x):
    """A Fraction, int, mpf or ball as an arb at the current precision (exact for the first three when it fits)."""
    if isinstance(x, flint.arb):
        return x
    if isinstance(x, (Fraction, int)):
        return flint.arb(flint.fmpq(x.numerator, x.denominator))
    return flint.arb(x)


def _mat(rows):
    rows = [list(r) for r in rows]
    return flint.arb_mat(len(rows), len(rows[0]) if rows else 0, [ball(x) for r in rows for x in r])


def _rows(m):
    return tuple(tuple(r) for r in m.tolist())


def run_balls(spec, rules, weights, biases) -> BallPass:
    """One forward pass, backward pass and update on balls at the current FLINT precision."""
    L, N = spec.layers, spec.batch
    W = [None] + [_mat(weights[l]) for l in range(1, L + 1)]
    b = [None] + [_mat([[x] for x in biases[l]]) for l in range(1, L + 1)]
    ones = flint.arb_mat(1, N, [1] * N)
    A = [_mat(list(zip(*spec.inputs)))]
    net, out = [()], [tuple(tuple(ball(x) for x in row) for row in spec.inputs)]
    for l in range(1, L + 1):
        definition, _, cross = rules.activations[l]
        Z = W[l] * A[l - 1] + b[l] * ones
        z_rows = _rows(Z.transpose())
        f = compiled(definition)
        values = tuple(tuple(f({fn.z: z}) for z in row) for row in z_rows)
        if cross is not None:
            values = tuple(tuple(v / sum(row[1:], row[0]) for v in row) for row in values)
        net.append(z_rows)
        out.append(values)
        A.append(_mat(values).transpose())
    targets = tuple(tuple(ball(t) for t in row) for row in spec.targets)
    term, dloss = compiled(rules.loss_term), compiled(rules.dloss)
    errors = tuple(tuple(term({fn.a: o, fn.t: t}) for o, t in zip(o_row, t_row))
                   for o_row, t_row in zip(out[L], targets))
    sample_losses = tuple(sum(row[1:], row[0]) for row in errors)
    bw = ball(rules.batch_weight)
    loss = bw * sum(sample_losses[1:], sample_losses[0])

    dE_dout, dout_dnet, delta = [()] * (L + 1), [()] * (L + 1), [()] * (L + 1)
    jacobian = [None] * (L + 1)
    D = [None] * (L + 1)
    for l in range(L, 0, -1):
        _, identity, cross = rules.activations[l]
        if l == L:
            upstream = tuple(tuple(dloss({fn.a: o, fn.t: t}) for o, t in zip(out[L][s], targets[s]))
                             for s in range(N))
        else:
            upstream = _rows((W[l + 1].transpose() * D[l + 1]).transpose())
        g = compiled(identity)
        local = tuple(tuple(g({fn.a: a, fn.z: z}) for a, z in zip(out[l][s], net[l][s])) for s in range(N))
        if cross is None:
            d = tuple(tuple(u * v for u, v in zip(up, lo)) for up, lo in zip(upstream, local))
        else:
            c = compiled(cross)
            J = tuple(tuple(tuple(local[s][k] if k == j else c({fn.a: out[l][s][k], fn.b: out[l][s][j]})
                                  for j in range(len(local[s]))) for k in range(len(local[s]))) for s in range(N))
            jacobian[l] = J
            # every output depends on every net input: delta_j sums over the outputs k
            d = tuple(tuple(sum((upstream[s][k] * J[s][k][j] for k in range(1, len(J[s]))), upstream[s][0] * J[s][0][j])
                            for j in range(len(J[s]))) for s in range(N))
        dE_dout[l], dout_dnet[l], delta[l] = upstream, local, d
        D[l] = _mat(d).transpose()
    eta = ball(spec.learning_rate)
    ones_col = flint.arb_mat(N, 1, [1] * N)
    grad_W, grad_b, new_W, new_b = [()], [()], [None], [None]
    for l in range(1, L + 1):
        gW = D[l] * A[l - 1].transpose() * bw
        gb = D[l] * ones_col * bw
        grad_W.append(_rows(gW))
        grad_b.append(tuple(r[0] for r in _rows(gb)))
        new_W.append(_rows(W[l] - gW * eta))
        new_b.append(tuple(r[0] for r in _rows(b[l] - gb * eta)) if spec.update_biases else biases[l])
    return BallPass(tuple(net), tuple(out), errors, sample_losses, loss, tuple(dE_dout), tuple(dout_dnet),
                    tuple(jacobian), tuple(delta), tuple(grad_W), tuple(grad_b), tuple(new_W), tuple(new_b),
                    flint.ctx.prec)


def certified_run(spec, rules, weights, biases, digits: int = DIGITS) -> BallPass:
    """run_balls at a precision raised until every value is certified to ``digits`` significant digits."""
    need = math.ceil(digits * math.log2(10)) + 2  # radius below half a unit of the last digit, with room
    saved = flint.ctx.prec
    try:
        for prec in PRECISIONS:
            flint.ctx.prec = prec
            try:
                made = run_balls(spec, rules, weights, biases)
            except Undecided:
                continue  # a net input too close to a kink to tell its side: more bits
            # every digit a document may print (up to ``digits``) proven: no rounding changes within a ball
            if _all_certified(made.values(), need, digits):
                return made
        return made  # the best there is: certified() shows fewer digits where a value stays wide
    finally:
        flint.ctx.prec = saved


def _all_certified(values, bits: int, digits: int) -> bool:
    """_accurate(x, bits) and decides(x, digits) for every value (the loop written out: a large network has many)."""
    arb, scales = flint.arb, _half_units(flint.ctx.prec)
    for x in values:
        if type(x) is not arb or x.is_exact():
            continue
        if x.rel_accuracy_bits() < bits:
            return False
        if not (_clear_of_ties(x, digits, scales) or decides(x, digits)):
            return False
    return True


def _accurate(x, bits: int) -> bool:
    if not isinstance(x, flint.arb):
        return True
    return x.is_exact() or x.rel_accuracy_bits() >= bits


def decides(x, digits: int = DIGITS) -> bool:
    """True when every value of the ball rounds as its midpoint does, at every n <= ``digits`` significant digits.

    Then the midpoint's n digits, printed, are proven for any n a document asks for. A rounding
    at n digits changes only at a tie point (n digits and a 5); each is a multiple of half a unit
    of the ``digits``-th digit, so a ball holding none of those decides every n at once. A ball
    around a short decimal (a net input 0.3775 of decimal weights and inputs) holds that tie point
    however many bits it has: it counts as decided when all ``digits`` digits are proven and are
    that decimal (printing rounds the decimal itself, half away from zero, as for an exact value).
    """
    if not isinstance(x, flint.arb) or x.is_exact():
        return True
    if _clear_of_ties(x, digits, _half_units(flint.ctx.prec)):
        return True
    mid, rad, _ = (int(v) for v in x.mid_rad_10exp(digits + 3))  # the ball lies in [mid - rad, mid + rad] 10^exp
    a = abs(mid)
    lo, hi = a - rad, a + rad
    if lo <= 0:
        return False  # not even the sign
    width = len(str(a))
    half = 10 ** max(width - digits, 0) // 2
    if half and lo // half == hi // half and lo % half:
        return True  # no multiple of half a unit of the last digit inside: no tie point of any n
    for n in range(1, digits + 1):
        unit = 10 ** max(width - n, 0)
        if unit == 1:
            return False  # the ball is as wide as the digits shown
        tie = unit // 2
        if (lo - tie) // unit != (hi - tie) // unit or (lo - tie) % unit == 0:
            point = (lo - tie) // unit * unit + tie + (unit if (lo - tie) % unit else 0)  # the tie inside
            last = 10 ** max(width - digits, 0)
            if not (2 * (hi - point) < last and 2 * (point - lo) <= last):
                return False  # the ball is wider than the proven digits of a short decimal
    return True


#: precision -> {k: the ball 2 * 10^k at that precision} (one over half a unit of a digit)
_HALF_UNITS: dict = {}


def _half_units(prec: int) -> dict:
    return _HALF_UNITS.setdefault(prec, {})


def _clear_of_ties(x, digits: int, scales: dict) -> bool:
    """A quick sufficient test for decides: the ball holds no multiple of half a unit of the ``digits``-th digit.

    Every tie point of every n <= ``digits`` is such a multiple; the grid is taken one digit
    finer than the leading digit's exponent says (a double's log10 may be one off), which only
    adds points. One product and one integer test per value; False sends decides to its full test.
    """
    f = abs(float(x))
    if not 1e-300 < f < 1e300:
        return False
    k = digits - math.floor(math.log10(f))  # 2 * 10^k is one over half a unit of the digit after the digits-th
    scale = scales.get(k)
    if scale is None:
        scale = scales[k] = flint.arb(2 * 10 ** k) if k >= 0 else flint.arb(flint.fmpq(2, 10 ** -k))
    return not (x * scale).contains_integer()


def certified(x, digits: int = DIGITS) -> str:
    """The significant digits of a ball that its radius proves, at most ``digits``, as decimal text.

    A digit string d_1...d_n and exponent e are certified when every number in the
    ball rounds to them at n digits: the radius is below half a unit of the n-th
    digit less the midpoint's own distance from that rounding.
    """
    if x.is_exact() and x.is_zero():
        return "0"
    for n in range(digits, 0, -1):
        mid, rad, exp = (int(v) for v in x.mid_rad_10exp(n + 2))  # the ball lies in [mid - rad, mid + rad] 10^exp
        a = abs(mid)
        lo, hi = a - rad, a + rad
        if lo <= 0:
            break  # not even the sign is proven
        unit = 10 ** max(len(str(a)) - n, 0)
        nearest = (2 * a + unit) // (2 * unit) * unit  # |mid| rounded half up to n significant digits
        # proven when every value of the ball rounds to the same n digits
        if 2 * (nearest - lo) <= unit and 2 * (hi - nearest) < unit:
            text = str(nearest // unit)
            point = exp + len(str(nearest)) - 1  # the decimal exponent of the first digit
            sign = "-" if mid < 0 else ""
            return f"{sign}{text[0]}.{text[1:]}e{point}" if len(text) > 1 else f"{sign}{text}e{point}"
    return "?"


def pass_of(spec, rules, weights, biases, Pass):
    """backprop.run's Pass for a non-rational network from a certified ball pass: the midpoints as mpf."""
    made = certified_run(spec, rules, weights, biases)

    arb = flint.arb

    def mpf(x):
        if isinstance(x, tuple):
            return tuple(to_mpf(v) if type(v) is arb else mpf(v) for v in x)
        return to_mpf(x) if type(x) is arb else x

    L = spec.layers
    return Pass(
        weights=tuple(weights), biases=tuple(biases), net=mpf(made.net),
        out=(rules.lift(spec.inputs),) + mpf(made.out[1:]),
        errors=mpf(made.errors), sample_losses=mpf(made.sample_losses), loss=to_mpf(made.loss),
        dE_dout=mpf(made.dE_dout), dout_dnet=mpf(made.dout_dnet),
        jacobian=tuple(None if j is None else mpf(j) for j in made.jacobian), delta=mpf(made.delta),
        grad_W=mpf(made.grad_W), grad_b=mpf(made.grad_b),
        new_weights=(None,) + mpf(made.new_weights[1:]),
        new_biases=(None,) + (mpf(made.new_biases[1:]) if spec.update_biases else tuple(biases[1:L + 1])),
    )


def to_mpf(x, _make=MP.make_mpf):
    """A ball's midpoint as an mpf of derive's 200-bit context (rounded to nearest, ties to even, as mpmath does)."""
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    if not man:
        return _make((0, 0, 0, 0))
    sign = man < 0
    man = -man if sign else man
    bc = man.bit_length()
    if bc > PREC_BITS:
        shift = bc - PREC_BITS
        kept = man >> shift
        rest, half = man - (kept << shift), 1 << (shift - 1)
        if rest > half or (rest == half and kept & 1):
            kept += 1
        man, exp = kept, exp + shift
    if not man & 1:  # mpmath keeps mantissas odd
        zeros = (man & -man).bit_length() - 1
        man, exp = man >> zeros, exp + zeros
    return _make((int(sign), man, exp, man.bit_length()))
