"""Putting numbers into SymPy expressions: exact where the arithmetic is rational, 60 digits otherwise.

Values are Python ``Fraction`` while every operation so far was rational and ``mpf``
of a private mpmath context (200 bits, about 60 significant digits) once an
exponential or logarithm has been taken. Rounding happens only when printing.
"""

from __future__ import annotations

import math
import operator
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction

import mpmath
import sympy as sp

PREC_BITS = 200
MP = mpmath.MPContext()
MP.prec = PREC_BITS
#: a rational whose denominator grows past this many bits is carried on as a 60-digit float
MAX_EXACT_BITS = 4096

Number = Fraction | mpmath.mpf

_MPF = type(MP.mpf(0))  # the class of this context's values
_make_mpf = MP.make_mpf
_from_rational = mpmath.libmp.from_rational
_ROUND = MP._prec_rounding[1]


def lift(x, exact: bool):
    """A spec number in the network's domain: Fraction when the network is rational, else mpf.

    One domain per network, because Fraction and mpf do not mix in every operation.
    """
    return x if exact else to_mp(x)


def from_constant(value: sp.Expr) -> Number:
    """An exact SymPy number as a value: a Fraction when it is rational, else an mpf of the private context.

    SymPy's evalf bounds its own error, so the mpf is the constant correctly rounded to
    PREC_BITS (60 digits), the precision every non-rational value is carried at.
    """
    if value.is_Rational:
        return Fraction(int(value.p), int(value.q))
    digits = int(PREC_BITS * 0.30103) + 10
    return MP.mpf(sp.Float(value.evalf(digits), digits)._mpf_)


def is_exact(x) -> bool:
    """True for an exact rational value."""
    return isinstance(x, (Fraction, int))


def to_mp(x):
    """The value as a high-precision float of the private context."""
    if isinstance(x, Fraction):
        p, q = x.numerator, x.denominator
        if p.bit_length() <= PREC_BITS:
            # the same single rounding as MP.mpf(p) / q (MP.mpf(p) is exact here), without the detour
            return _make_mpf(_quotient(p, q)) if p else _make_mpf(_from_rational(p, q, PREC_BITS, _ROUND))
        return MP.mpf(p) / q
    return MP.mpf(x)


def _quotient(p: int, q: int) -> tuple:
    """p/q (p nonzero, q positive) rounded to PREC_BITS bits, to nearest with ties to even, as an mpf tuple.

    What mpmath's from_rational gives, in fewer steps: a spec's numbers are converted by the ten thousand.
    """
    sign = 0
    if p < 0:
        sign, p = 1, -p
    shift = PREC_BITS + 2 + q.bit_length() - p.bit_length()  # a quotient of PREC_BITS + 2 or 3 bits
    quot, rest = divmod(p << shift, q) if shift >= 0 else divmod(p, q << -shift)
    drop, exp = quot.bit_length() - PREC_BITS, -shift
    kept = quot >> drop
    low, half = quot - (kept << drop), 1 << (drop - 1)
    if low > half or (low == half and (rest or kept & 1)):
        kept += 1
    quot, exp = kept, exp + drop
    if not quot & 1:  # mpmath keeps mantissas odd
        zeros = (quot & -quot).bit_length() - 1
        quot, exp = quot >> zeros, exp + zeros
    return sign, quot, exp, quot.bit_length()


def tame(x):
    """Keep a rational exact unless its size has grown out of proportion."""
    if isinstance(x, Fraction) and x.denominator.bit_length() > MAX_EXACT_BITS:
        return to_mp(x)
    return x


def evaluate(expr: sp.Expr, env, memo: dict | None = None) -> Number:
    """Evaluate a SymPy expression with the symbols' values taken from ``env`` (a mapping).

    Shared subexpressions are evaluated once (``memo``): a derivative of a deep
    composition is a DAG that would be exponential as a tree. A small expression
    evaluated a second time is compiled (see :func:`_compile`) and from then on
    evaluated by its compiled form, which gives the same value, of the same type.
    """
    key = id(expr)
    if memo is None:
        # an expression evaluated again and again (an activation, a loss term) is compiled once
        compiled = _COMPILED.get(key)
        if compiled is not None:
            return compiled[1](env)
        if key not in _SEEN:
            if len(_SEEN) >= _SEEN_SIZE:
                _SEEN.clear()
                _WALKED.clear()
            _SEEN.add(key)
        elif key not in _WALKED:
            # seen before (or another expression that had its id: compiling it is merely early)
            function = _compile_small(expr)
            if function is not None:
                if len(_COMPILED) >= _CACHE_SIZE:
                    _COMPILED.clear()
                _COMPILED[key] = (expr, function)  # keeps expr alive, so that its id is not reused
                return function(env)
            _WALKED.add(key)  # too large or unusual: keep walking it
        memo = {}
    elif key in memo:
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


# -- compiled evaluation -------------------------------------------------------------
# evaluate() walks the expression tree, which costs more than the arithmetic on the
# small expressions the reverse sweep puts numbers into thousands of times (sigmoid,
# its derivative, a loss term). An expression seen a second time is compiled into
# nested closures that do exactly the walk's operations, in the same order and on
# the same types, so that every value is bit for bit the one the walk gives; only
# the bookkeeping (type tests, memo, Fraction(0) and Fraction(1) to start a sum or a
# product, rational constants converted to 60-digit floats again and again) goes.

_COMPILED: dict = {}  # id(expr) -> (expr, function of env)
_SEEN: set = set()  # ids of expressions evaluated so far (no references kept: large ones may be big)
_WALKED: set = set()  # ids of expressions left to the walk
_CACHE_SIZE = 4096
_SEEN_SIZE = 1 << 16
_COMPILE_NODES = 200  # larger expressions keep the memoised walk (they may be DAGs)
_RELATIONS = {
    sp.StrictGreaterThan: lambda left, right: left > right,
    sp.GreaterThan: lambda left, right: left >= right,
    sp.StrictLessThan: lambda left, right: left < right,
    sp.LessThan: lambda left, right: left <= right,
    sp.Equality: lambda left, right: left == right,
    sp.Unequality: lambda left, right: left != right,
}


class _NotCompiled(Exception):
    """An expression the compiler leaves to the walk (which evaluates it or raises)."""


def _compile_small(expr):
    """A function of env equal to ``evaluate(expr, env)``, or None for a large or unusual expression."""
    nodes = 0
    for _ in sp.preorder_traversal(expr):
        nodes += 1
        if nodes > _COMPILE_NODES:
            return None
    try:
        return _compile(expr)
    except _NotCompiled:
        return None


def _constant(expr):
    """(Fraction, mpf) of an Integer or Rational, or None."""
    if expr.is_Integer:
        value = Fraction(int(expr))
    elif expr.is_Rational:
        value = Fraction(int(expr.p), int(expr.q))
    else:
        return None
    return value, MP.convert(value)  # what mpf arithmetic makes of a Fraction operand


def _compile(expr):
    if expr.is_Symbol:
        def symbol(env, expr=expr):
            return env[expr]
        return symbol
    constant = _constant(expr)
    if constant is not None:
        value = constant[0]
        return lambda env: value
    if expr.is_Float:
        value = MP.mpf(expr._mpf_)
        return lambda env: value
    if expr.is_Add or expr.is_Mul:
        return _compile_fold(expr.args, expr.is_Add)
    if expr.is_Pow:
        base, exponent = expr.args
        base_f = _compile(base)
        if exponent.is_Integer:
            n = int(exponent)

            def power(env):
                value = base_f(env)
                if n < 0 and not value:
                    raise ZeroDivisionError("division by zero while putting the numbers in")
                return value**n
            return power
        exponent_f = _compile(exponent)
        return lambda env: to_mp(base_f(env)) ** to_mp(exponent_f(env))
    if isinstance(expr, (sp.exp, sp.log, sp.tanh)):
        arg = _compile(expr.args[0])
        # to_mp leaves a value of this context as it is (MP.prec never changes): skip the copy
        mpf = _MPF
        if isinstance(expr, sp.exp):
            exp = MP.exp
            return lambda env: exp(value if type(value := arg(env)) is mpf else to_mp(value))
        if isinstance(expr, sp.tanh):
            tanh = MP.tanh
            return lambda env: tanh(value if type(value := arg(env)) is mpf else to_mp(value))

        def log(env):
            value = arg(env)
            if value <= 0:
                raise ValueError("logarithm of a value that is not positive")
            return MP.log(to_mp(value))
        return log
    if isinstance(expr, sp.Piecewise):
        branches = tuple((_compile(piece), _compile_condition(condition)) for piece, condition in expr.args)

        def piecewise(env):
            for piece, holds in branches:
                if holds(env):
                    return piece(env)
            raise ValueError(f"no branch of {expr} applies")
        return piecewise
    if isinstance(expr, sp.Max):
        args = tuple(_compile(arg) for arg in expr.args)
        return lambda env: max(f(env) for f in args)
    if isinstance(expr, sp.Heaviside):
        x_f = _compile(expr.args[0])
        at_zero_f = _compile(expr.args[1]) if len(expr.args) > 1 else (lambda env: Fraction(1, 2))

        def heaviside(env):
            x = x_f(env)
            return Fraction(1) if x > 0 else (Fraction(0) if x < 0 else at_zero_f(env))
        return heaviside
    raise _NotCompiled(type(expr).__name__)


def _compile_fold(args, add: bool):
    """A sum or product of the arguments, left to right, as the walk does it.

    The walk starts from Fraction(0) (or 1), which leaves the first value as it is
    (an int becomes a Fraction). A rational constant meets a 60-digit float as
    that float's own conversion of it (computed once here), which is what mpmath
    does with a Fraction operand; the result is the same, without converting the
    constant on every call.
    """
    items = []
    for arg in args:
        constant = _constant(arg)
        items.append((True, *constant) if constant is not None else (False, _compile(arg), None))
    start = Fraction(0) if add else Fraction(1)
    mpf = _MPF
    op = operator.add if add else operator.mul
    (first_const, first, first_mp), rest = items[0], tuple(items[1:])

    if len(items) == 2 and first_const and not rest[0][0]:  # 2*x, 1 + exp(...), -1*z: the common case
        c, c_mp, g = first, first_mp, rest[0][1]

        def constant_and(env):
            value = g(env)
            return op(c_mp, value) if type(value) is mpf else op(c, value)
        return constant_and
    if len(items) == 2 and not first_const and not rest[0][0]:
        f, g = first, rest[0][1]

        def pair(env):
            acc = f(env)
            if type(acc) is not mpf and type(acc) is not Fraction:
                acc = op(start, acc)
            return op(acc, g(env))
        return pair

    def fold(env):
        if first_const:
            acc = first
            if rest and not rest[0][0]:
                value = rest[0][1](env)
                acc = op(first_mp, value) if type(value) is mpf else op(acc, value)
                items_left = rest[1:]
            else:
                items_left = rest
        else:
            acc = first(env)
            if type(acc) is not mpf and type(acc) is not Fraction:
                acc = op(start, acc)
            items_left = rest
        for is_const, f, f_mp in items_left:
            acc = op(acc, (f_mp if type(acc) is mpf else f) if is_const else f(env))
        return acc

    return fold


def _compile_condition(condition):
    if condition is sp.true or condition == True:  # noqa: E712 - SymPy's true
        return lambda env: True
    if condition is sp.false or condition == False:  # noqa: E712 - SymPy's false
        return lambda env: False
    if isinstance(condition, (sp.And, sp.Or)):
        parts = tuple(_compile_condition(c) for c in condition.args)
        if isinstance(condition, sp.And):
            return lambda env: all(p(env) for p in parts)
        return lambda env: any(p(env) for p in parts)
    if isinstance(condition, sp.Not):
        part = _compile_condition(condition.args[0])
        return lambda env: not part(env)
    if isinstance(condition, sp.ITE):
        test, then, otherwise = (_compile_condition(c) for c in condition.args)
        return lambda env: then(env) if test(env) else otherwise(env)
    relation = _RELATIONS.get(type(condition))
    if relation is None or len(condition.args) != 2:
        raise _NotCompiled(type(condition).__name__)
    left_f, right_f = (_compile(side) for side in condition.args)

    def holds(env):
        left, right = left_f(env), right_f(env)
        if not (is_exact(left) and is_exact(right)):
            left, right = to_mp(left), to_mp(right)  # Fraction and mpf do not compare directly
        return relation(left, right)
    return holds


def to_decimal(x, digits: int = 60) -> Decimal:
    """The value as a Decimal with ``digits`` significant digits (exactly, when it fits)."""
    if type(x) is _MPF and x._mpf_[1]:
        return _mpf_decimal(x._mpf_, digits)
    with localcontext() as ctx:
        ctx.prec = digits
        if isinstance(x, Fraction):
            return Decimal(x.numerator) / Decimal(x.denominator)
        return Decimal(MP.nstr(x, digits, min_fixed=-mpmath.inf, max_fixed=mpmath.inf))


#: -exponent -> 5^-exponent: a binary fraction man * 2^exponent is man * 5^-exponent * 10^exponent
_FIVES: dict = {}
_TENTH = Decimal("0.1")


def _mpf_decimal(mpf_: tuple, digits: int) -> Decimal:
    """A nonzero mpf as MP.nstr(x, digits) in fixed point writes it, as a Decimal, in decimal arithmetic.

    The binary value is exact as a decimal; one rounding (half away from zero, as nstr rounds)
    gives the digits; as nstr writes them, trailing zeros after the point are dropped and a
    whole number keeps one (".0"). Worksheet batches convert tens of thousands of values.
    """
    sign, man, exp, _ = mpf_
    ctx = Context(prec=digits, rounding=ROUND_HALF_UP)
    if sign:
        man = -man
    if exp >= 0:
        d = ctx.plus(Decimal(man << exp))
    else:
        five = _FIVES.get(exp)
        if five is None:
            five = _FIVES[exp] = 5 ** -exp
        d = Decimal(man * five).scaleb(exp, ctx)
    shortest = d.normalize(ctx).as_tuple().exponent
    if shortest > -1:
        return d.quantize(_TENTH, context=Context(prec=digits + shortest + 2))
    return d.normalize(ctx) if shortest > d.as_tuple().exponent else d


def round_decimal(x, places: int) -> Decimal:
    """Round half away from zero to ``places`` decimals, as a student with a calculator does."""
    if isinstance(x, Fraction):
        scaled = x * Fraction(10) ** places
        q, r = divmod(abs(scaled.numerator), scaled.denominator)
        if 2 * r >= scaled.denominator:
            q += 1
        value = Decimal(q).scaleb(-places)
        return -value if x < 0 and q else value
    # First to 40 significant digits: a decimal tie (0.65035, from rounded numbers a student reuses) held
    # in binary sits a few units of the 60th digit off the tie, and must still round away from zero.
    with localcontext() as ctx:
        ctx.prec = 200
        value = to_decimal(x, 40).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return value.copy_abs() if value.is_zero() else value


def to_float(x) -> float:
    """The double nearest the value."""
    if type(x) is _MPF:
        sign, man, exponent, bits = x._mpf_
        if man and -1000 < exponent + bits < 1000:
            # well inside the range of normal doubles: float(man) rounds to 53 bits, to nearest
            # with ties to even, as mpmath does, and ldexp is then exact; float(x) gives the same
            value = math.ldexp(float(man), exponent)
            return -value if sign else value
    return float(x)
