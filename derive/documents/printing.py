"""Printing for the documents: numbers rounded at print time, and a SymPy LaTeX printer for our notation.

The printer is a subclass of SymPy's LatexPrinter: symbols print with the names the
graph gave them, products keep the order the chain rule wrote them in, and a
symbol can be printed as its number, which gives the "numbers put in" line of a
derivation from the same expression as the general one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction

from sympy.printing.latex import LatexPrinter

from derive.core.numeric import PREC_BITS, is_exact, round_decimal, to_decimal, to_mp

#: the default number of significant digits: the blog prints nine, enough to see every
#: rounding a hand calculation with a ten-digit calculator makes
DEFAULT_DIGITS = 9


@dataclass(frozen=True)
class Shown:
    """A value as printed: its text (plain and LaTeX) and whether printing it rounded it."""

    text: str
    latex: str
    rounded: bool

    @property
    def relation(self) -> str:
        """'=' when the printed number is the value, '\\approx' when it was rounded."""
        return r"\approx" if self.rounded else "="


def shown(x, digits: int = DEFAULT_DIGITS) -> Shown:
    """Round a value to ``digits`` significant digits (half away from zero) for printing.

    Fixed-point between 1e-5 and 1e9, scientific outside; trailing zeros dropped.
    A 60-digit float within 1e-45 of its printed decimal counts as exact (its value
    is a decimal that binary floats cannot hold).
    """
    if type(x) not in _REMEMBERED:
        return _shown(x, digits)
    # a worksheet prints the same value in its steps, its key and a dozen mistakes' sentences: each is rounded once
    key = (type(x), x, digits)
    found = _SHOWN.get(key)
    if found is None:
        if len(_SHOWN) >= _SHOWN_SIZE:
            _SHOWN.clear()
        found = _SHOWN[key] = _shown(x, digits)
    return found


#: the types whose equal values print alike (a Decimal's trailing zeros, say, are not part of its value)
_REMEMBERED = frozenset({Fraction, int, type(to_mp(0))})
_SHOWN: dict = {}
_SHOWN_SIZE = 1 << 14


def _shown(x, digits: int) -> Shown:
    if x == 0:
        return Shown("0", "0", False)
    d = to_decimal(x)
    exponent = d.adjusted()
    places = digits - 1 - exponent
    r = round_decimal(x, places)
    if r.is_zero():  # cannot happen for x != 0 with places from its exponent; keep it safe
        r = d
    rounded = (Decimal(r) != d or _fraction(r) != x) if is_exact(x) else _off(x, r)
    if -5 <= exponent < 9:
        text = _plain(r)
        return Shown(text, text, rounded)
    e = r.adjusted()
    # exactly: scaleb rounds to the context's precision (28 digits by default), fewer than --digits may ask for
    mantissa = _plain(r.scaleb(-e, Context(prec=max(len(r.as_tuple().digits), 1))))
    return Shown(f"{mantissa}e{e}", rf"{mantissa} \times 10^{{{e}}}", rounded)


def _fraction(d: Decimal):

    return Fraction(d)


def _rounded(x, r: Decimal) -> bool:
    """True when the printed decimal r is not the value x (a 60-digit float within 1e-45 of it counts as it)."""
    if is_exact(x):
        return _fraction(r) != x
    return _off(x, r)


#: 1e-45 in the private context: how near a 60-digit float may be to a decimal and still count as it
_TINY = to_mp(10) ** -45


def _off(x, r: Decimal) -> bool:
    """True when the decimal r is more than 1e-45 (relative) from the float x.

    r is converted from its exact value, which rounds it once to the context's precision, as parsing
    its text does (to_mp rounds twice a numerator longer than the precision: that rare r is parsed).
    """
    x, exact = to_mp(x), Fraction(r)
    y = to_mp(exact) if exact.numerator.bit_length() <= PREC_BITS else to_mp(str(r))
    return abs(y - x) > abs(x) * _TINY


def _decimals(d: Decimal) -> int:
    """The decimals a Decimal is written with once trailing zeros are dropped."""
    return max(0, -d.normalize().as_tuple().exponent) if not d.is_zero() else 0


#: a column is fixed point when every nonzero entry's exponent (after rounding) is in this range, as for one number
FIXED = range(-5, 9)


def column(values, digits: int = DEFAULT_DIGITS) -> tuple[Shown, ...]:
    """One number format for a column of a table (or a whole matrix): the same decimals for every entry.

    Each entry needs the decimals that show it to ``digits`` significant digits, or fewer when
    it is exactly a shorter decimal (0.15 needs two, 3 none); the column takes the most any entry
    needs and pads the others with zeros, so that right-aligned decimal points line up (0.1500
    above 0.2559). Fixed point when every nonzero entry lies where :func:`shown` writes a single
    number in fixed point (1e-5 to 1e9); otherwise the whole column is scientific, every mantissa
    with the same decimals and every exponent padded (in LaTeX) to the widest, so that the
    mantissas line up too. A tiny entry is never rounded to zero: a 1e-9 beside 0.5 turns the
    column scientific.
    """
    values = list(values)
    first = [(x, round_decimal(x, digits - 1 - to_decimal(x).adjusted())) for x in values if x != 0]
    exponents = [r.adjusted() for _, r in first]
    if all(e in FIXED for e in exponents):
        places = max([_decimals(r) if not _rounded(x, r) else max(0, digits - 1 - r.adjusted()) for x, r in first],
                     default=0)
        out = []
        for x in values:
            r = round_decimal(x, places) if x != 0 else Decimal(0).scaleb(-places)
            text = format(r, "f")
            out.append(Shown(text, text, x != 0 and _rounded(x, r)))
        return tuple(out)
    mantissa = max(_decimals(r.scaleb(-r.adjusted())) if not _rounded(x, r) else digits - 1 for x, r in first)
    parts = []
    for x in values:
        if x == 0:
            parts.append((x, Decimal(0).scaleb(-mantissa), None, False))
            continue
        r = round_decimal(x, mantissa - to_decimal(x).adjusted())
        if r.adjusted() != to_decimal(x).adjusted():  # rounding carried into the next power of ten
            r = round_decimal(x, mantissa - r.adjusted())
        m = r.scaleb(-r.adjusted()).quantize(Decimal(1).scaleb(-mantissa))
        parts.append((x, m, r.adjusted(), _rounded(x, r)))
    widest = max(len(str(e)) for _, _, e, _ in parts if e is not None)
    out = []
    for x, m, e, rounded in parts:
        digits_ = format(m, "f")
        if e is None:  # zero: no exponent, its room kept so that the mantissas line up
            out.append(Shown(digits_, rf"{digits_}\phantom{{{{}} \times 10^{{{'0' * widest}}}}}", False))
            continue
        pad = rf"\phantom{{{'0' * (widest - len(str(e)))}}}" if len(str(e)) < widest else ""
        out.append(Shown(f"{digits_}e{e}", rf"{digits_} \times 10^{{{e}{pad}}}", rounded))
    return tuple(out)


_FIXED_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SCIENTIFIC = re.compile(r"(-?\d+(?:\.\d+)?) \\times 10\^\{(-?\d+)(?:\\phantom\{0*\})?\}")
_ZERO = re.compile(r"(0(?:\.0+)?)\\phantom\{.*\}")
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def plain_number(latex: str) -> str | None:
    """A number as :func:`shown` or :func:`column` writes it in LaTeX, as Unicode text with a true minus
    (U+2212) and a superscript exponent (1.5 × 10⁻⁹); None when the LaTeX is not just a number."""
    latex = latex.strip()
    if _FIXED_NUMBER.fullmatch(latex):
        return latex.replace("-", "\u2212")
    if m := _SCIENTIFIC.fullmatch(latex):
        return m[1].replace("-", "\u2212") + " × 10" + m[2].translate(_SUPERSCRIPT)
    if m := _ZERO.fullmatch(latex):
        return m[1]
    return None


def _plain(d: Decimal) -> str:
    """A Decimal in fixed point without trailing zeros."""
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class DerivePrinter(LatexPrinter):
    """LaTeX for derive's expressions: named symbols, written order, optional numbers."""

    def __init__(self, names: dict, numbers: dict | None = None, **settings):
        settings.setdefault("order", "none")
        settings.setdefault("mul_symbol", "dot" if numbers else None)
        settings.setdefault("ln_notation", True)  # the natural log of the cross-entropies, written ln as taught
        super().__init__(settings)
        self.names = names
        self.numbers = numbers or {}
        self._whole_argument = None  # a symbol printed as a function's only argument, in the function's parentheses

    def _print_Symbol(self, expr, style="plain"):
        if expr in self.numbers:
            text = self.numbers[expr]
            return rf"\left({text}\right)" if text.startswith("-") and expr != self._whole_argument else text
        if expr in self.names:
            return self.names[expr]
        return super()._print_Symbol(expr, style)

    def _print_Function(self, expr, exp=None):
        # a negative number as a function's whole argument needs no parentheses of its own: tanh(-0.25)
        if len(expr.args) == 1 and expr.args[0] in self.numbers:
            self._whole_argument = expr.args[0]
            try:
                return super()._print_Function(expr, exp)
            finally:
                self._whole_argument = None
        return super()._print_Function(expr, exp)

    def _print_Piecewise(self, expr):
        # ReLU and leaky ReLU and their derivatives, written as lecturers write them
        (piece, condition), (other, _) = expr.args[0], expr.args[-1]
        if not piece.is_number:
            if other == 0:
                return rf"\max(0, {self._print(piece)})"
            return rf"\max({self._print(other)}, {self._print(piece)})"
        if piece == 1 and other == 0:
            return rf"[{self._print(condition)}]"
        return (rf"\begin{{cases}} {self._print(piece)} & {self._print(condition)} \\ "
                rf"{self._print(other)} & \text{{otherwise}} \end{{cases}}")


def latex(expr, names: dict) -> str:
    """The general form of an expression in our notation."""
    # the versions of a worksheet batch print the same general forms with the same names: each is printed once
    key = (expr, frozenset(names.items()))
    found = _LATEX.get(key)
    if found is None:
        if len(_LATEX) >= _LATEX_SIZE:
            _LATEX.clear()
        found = _LATEX[key] = DerivePrinter(names).doprint(expr)
    return found


_LATEX: dict = {}
_LATEX_SIZE = 1 << 12


def with_numbers(expr, names: dict, values, digits: int = DEFAULT_DIGITS) -> str:
    """The expression with every symbol replaced by its rounded value."""
    numbers = {s: shown(values[s], digits).latex for s in expr.free_symbols}
    return DerivePrinter(names, numbers).doprint(expr)
