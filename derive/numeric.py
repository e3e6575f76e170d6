"""Putting numbers into SymPy expressions: exact where the arithmetic is rational, 60 digits otherwise.

Values are Python ``Fraction`` while every operation so far was rational and ``mpf``
of a private mpmath context (200 bits, about 60 significant digits) once an
exponential or logarithm has been taken. Rounding happens only when printing.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import mpmath
import sympy as sp

PREC_BITS = 200
MP = mpmath.MPContext()
MP.prec = PREC_BITS
#: a rational whose denominator grows past this many bits is carried on as a 60-digit float
MAX_EXACT_BITS = 4096

Number = Fraction | mpmath.mpf


def lift(x, exact: bool):
    """A spec number in the network's domain: Fraction when the network is rational, else mpf.

    One domain per network, because Fraction and mpf do not mix in every operation.
    """
    return x if exact else to_mp(x)


def is_exact(x) -> bool:
    """True for an exact rational value."""
    return isinstance(x, (Fraction, int))


def to_mp(x):
    """The value as a high-precision float of the private context."""
    if isinstance(x, Fraction):
        return MP.mpf(x.numerator) / x.denominator
    return MP.mpf(x)


def tame(x):
    """Keep a rational exact unless its size has grown out of proportion."""
    if isinstance(x, Fraction) and x.denominator.bit_length() > MAX_EXACT_BITS:
        return to_mp(x)
    return x


def evaluate(expr: sp.Expr, env, memo: dict | None = None) -> Number:
    """Evaluate a SymPy expression with the symbols' values taken from ``env`` (a mapping).

    Shared subexpressions are evaluated once (``memo``): a derivative of a deep
    composition is a DAG that would be exponential as a tree.
    """
    if memo is None:
        memo = {}
    key = id(expr)
    if key in memo:
        return memo[key][1]
    value = _evaluate(expr, env, memo)
    memo[key] = (expr, value)  # keep expr alive so that its id is not reused
    return value


def _evaluate(expr, env, memo) -> Number:
    if expr.is_Symbol:
        return env[expr]
    if expr.is_Integer:
        return Fraction(int(expr))
    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))
    if expr.is_Float:
        return MP.mpf(expr._mpf_)
    if expr.is_Add:
        total = Fraction(0)
        for arg in expr.args:
            total += evaluate(arg, env, memo)
        return total
    if expr.is_Mul:
        product = Fraction(1)
        for arg in expr.args:
            product *= evaluate(arg, env, memo)
        return product
    if expr.is_Pow:
        base, exponent = expr.args
        value = evaluate(base, env, memo)
        if exponent.is_Integer:
            n = int(exponent)
            if n < 0 and value == 0:
                raise ZeroDivisionError("division by zero while putting the numbers in")
            return value**n
        return to_mp(value) ** to_mp(evaluate(exponent, env, memo))
    if isinstance(expr, sp.exp):
        return MP.exp(to_mp(evaluate(expr.args[0], env, memo)))
    if isinstance(expr, sp.log):
        value = evaluate(expr.args[0], env, memo)
        if value <= 0:
            raise ValueError("logarithm of a value that is not positive")
        return MP.log(to_mp(value))
    if isinstance(expr, sp.tanh):
        return MP.tanh(to_mp(evaluate(expr.args[0], env, memo)))
    if isinstance(expr, sp.Piecewise):
        for piece, condition in expr.args:
            if _holds(condition, env, memo):
                return evaluate(piece, env, memo)
        raise ValueError(f"no branch of {expr} applies")
    if isinstance(expr, sp.Max):
        return max(evaluate(arg, env, memo) for arg in expr.args)
    if isinstance(expr, sp.Heaviside):
        x = evaluate(expr.args[0], env, memo)
        at_zero = evaluate(expr.args[1], env, memo) if len(expr.args) > 1 else Fraction(1, 2)
        return Fraction(1) if x > 0 else (Fraction(0) if x < 0 else at_zero)
    raise TypeError(f"cannot evaluate {type(expr).__name__}: {expr}")


def _holds(condition, env, memo=None) -> bool:
    """Truth of a Piecewise condition at the given values."""
    if condition is sp.true or condition == True:  # noqa: E712 - SymPy's true
        return True
    if condition is sp.false or condition == False:  # noqa: E712 - SymPy's false
        return False
    if isinstance(condition, sp.And):
        return all(_holds(c, env, memo) for c in condition.args)
    if isinstance(condition, sp.Or):
        return any(_holds(c, env, memo) for c in condition.args)
    if isinstance(condition, sp.Not):
        return not _holds(condition.args[0], env, memo)
    if isinstance(condition, sp.ITE):
        test, then, otherwise = condition.args
        return _holds(then, env, memo) if _holds(test, env, memo) else _holds(otherwise, env, memo)
    left, right = (evaluate(side, env, memo) for side in condition.args)
    if not (is_exact(left) and is_exact(right)):
        left, right = to_mp(left), to_mp(right)  # Fraction and mpf do not compare directly
    return {
        sp.StrictGreaterThan: left > right,
        sp.GreaterThan: left >= right,
        sp.StrictLessThan: left < right,
        sp.LessThan: left <= right,
        sp.Equality: left == right,
        sp.Unequality: left != right,
    }[type(condition)]


def to_decimal(x, digits: int = 60) -> Decimal:
    """The value as a Decimal with ``digits`` significant digits (exactly, when it fits)."""
    with localcontext() as ctx:
        ctx.prec = digits
        if isinstance(x, Fraction):
            return Decimal(x.numerator) / Decimal(x.denominator)
        return Decimal(MP.nstr(x, digits, min_fixed=-mpmath.inf, max_fixed=mpmath.inf))


def round_decimal(x, places: int) -> Decimal:
    """Round half away from zero to ``places`` decimals, as a student with a calculator does."""
    if isinstance(x, Fraction):
        scaled = x * 10**places
        q, r = divmod(abs(scaled.numerator), scaled.denominator)
        if 2 * r >= scaled.denominator:
            q += 1
        value = Decimal(q).scaleb(-places)
        return -value if x < 0 and q else value
    with localcontext() as ctx:
        ctx.prec = 200
        value = to_decimal(x).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return value.copy_abs() if value.is_zero() else value


def to_float(x) -> float:
    """The double nearest the value."""
    return float(x)
