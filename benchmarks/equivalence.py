"""Check that the fast paths of derive.core.numeric give exactly what the plain code gives.

    python3 benchmarks/equivalence.py

- ``evaluate``'s compiled form against the tree walk it replaces, on every activation,
  its derivative identity, every loss term and its derivative, and assorted expressions,
  at random Fraction, 60-digit, int and float values: the same value of the same type,
  bit for bit, or the same exception;
- ``to_mp`` against ``MP.mpf(p) / q``, ``to_float`` against ``float(mpf)``, including ties
  at the 53rd bit and values outside the range of doubles.

Exit code 0 when everything agrees.
"""

from __future__ import annotations

import math
import random
import sys
from fractions import Fraction

import sympy as sp
from mpmath.libmp import from_man_exp

from derive.core import functions as fn
from derive.core import numeric as nm
from derive.core.numeric import MP


def same(u, v) -> bool:
    if type(u) is not type(v):
        return False
    if hasattr(u, "_mpf_"):
        return u._mpf_ == v._mpf_
    return u == v or (u != u and v != v)


def check_to_mp(rng, n=20000) -> int:
    for _ in range(n):
        p = rng.randint(-2 ** rng.choice([3, 30, 100, 199, 200, 201, 300, 5000]), 2**200)
        q = rng.randint(1, 2 ** rng.choice([1, 10, 100, 300, 5000]))
        x = Fraction(p, q)
        a, b = MP.mpf(x.numerator) / x.denominator, nm.to_mp(x)
        assert a._mpf_ == b._mpf_ and type(a) is type(b), x
    return n


def check_to_float(rng, n=100000) -> int:
    specials = [MP.mpf(0), MP.inf, -MP.inf, MP.nan, MP.mpf(1) / 3, MP.exp(MP.mpf(-800)), MP.exp(MP.mpf(800))]
    values = list(specials)
    for _ in range(n):
        bits = rng.choice([1, 20, 53, 54, 55, 60, 100, 199, 200])
        man = rng.getrandbits(bits) | (1 << (bits - 1))
        if rng.random() < 0.3 and bits > 54:  # exact ties and near-ties at the 53rd bit
            k = bits - 53
            man = (man >> k << k) | (1 << (k - 1)) | rng.choice([0, 0, 1])
        exp = rng.randint(-1200, 1200) if rng.random() < 0.2 else rng.randint(-300, 100)
        values.append(MP.make_mpf(from_man_exp(rng.choice([1, -1]) * man, exp, nm.PREC_BITS, "n")))
    for x in values:
        a, b = nm.to_float(x), float(x)
        assert (a == b and math.copysign(1, a) == math.copysign(1, b)) or (a != a and b != b), x._mpf_
    return len(values)


def expressions() -> list:
    z, a = fn.z, fn.a
    x, y = sp.symbols("x y", real=True)
    found = []
    activations = list(fn.ACTIVATIONS.values())
    try:
        activations.append(fn.ACTIVATIONS["leaky_relu(0.2)"])  # made on demand where derive has it
    except KeyError:
        pass
    for act in activations:
        found += [act.definition, act.identity, act.derivative()]
    for loss in fn.LOSSES.values():
        found += [loss.term, sp.diff(loss.term, a), sp.Rational(1, 3) * loss.term,
                  sp.diff(sp.Rational(1, 7) * loss.term, a)]
    found += [
        x + y + 1, 2 * x * y, sp.Rational(1, 3) + x, x * sp.Rational(2, 3) * y, sp.Mul(x, 1, y, evaluate=False),
        sp.Add(x, sp.Rational(1, 3), y, evaluate=False), sp.Mul(sp.Rational(1, 3), x, evaluate=False),
        x**-2, (x + y) ** 3, sp.exp(x) * sp.log(y**2 + 1), sp.tanh(x - y), sp.Max(x, y, 0),
        sp.Heaviside(x), sp.Heaviside(x, 1),
        sp.Piecewise((x, (x > 0) & (y < 1)), (y, sp.Or(x < -1, sp.Not(y >= 2))), (0, True)),
        sp.Piecewise((x, sp.Eq(x, y)), (1, sp.Ne(x, 0)), (2, True)), sp.Integer(3), sp.Rational(5, 7),
        sp.Float("0.1", 60), x, 1 / (1 + sp.exp(-x * y + sp.Rational(1, 3))), x ** sp.Rational(1, 2) + y,
        sp.Float(1.5) * x + 2,
        fn.ACTIVATIONS["sigmoid"].definition.xreplace(
            {z: x * sp.Rational(3, 20) + y * sp.Rational(1, 5) + sp.Rational(7, 20)}),
    ]
    return found


def check_compiled(rng, per_expression=400) -> int:
    def value():
        r = rng.random()
        if r < 0.3:
            return Fraction(rng.randint(-9999, 9999), rng.choice([1, 3, 20, 10000, 7**30]))
        if r < 0.6:
            return MP.mpf(rng.uniform(-3, 3)) / 7
        if r < 0.7:
            return rng.choice([0, 1, -1, Fraction(0), MP.mpf(0)])
        if r < 0.8:
            return rng.randint(-5, 5)
        if r < 0.85:
            return rng.uniform(-2, 2)
        return MP.exp(MP.mpf(rng.uniform(-5, 5)))

    count = 0
    for expr in expressions():
        compiled = nm._compile_small(expr)
        assert compiled is not None, f"not compiled: {expr}"
        symbols = sorted(expr.free_symbols, key=str)
        for _ in range(per_expression):
            env = {s: value() for s in symbols}
            results = []
            for f in (lambda: nm._evaluate(expr, env, {}), lambda: compiled(env)):
                try:
                    results.append((f(), None))
                except Exception as error:  # noqa: BLE001 - the same exception is part of the check
                    results.append((None, type(error)))
            (walked, walk_error), (fast, fast_error) = results
            assert walk_error == fast_error, (expr, env, walk_error, fast_error)
            if walk_error is None:
                assert same(walked, fast), (expr, env, walked, fast)
                assert same(nm.evaluate(expr, env), walked) and same(nm.evaluate(expr, env), walked)
                count += 1
    return count


def main() -> int:
    rng = random.Random(1)
    print(f"to_mp: {check_to_mp(rng)} rationals agree with MP.mpf(p) / q")
    print(f"to_float: {check_to_float(rng)} values agree with float(mpf)")
    print(f"evaluate: {check_compiled(rng)} compiled evaluations agree with the tree walk, bit for bit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
