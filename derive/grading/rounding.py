"""Rounding as a hand calculation does it: the precision an answer is written to, when it agrees
with a value, and the answer key of a student who rounds every intermediate.

The verdict rule
----------------

An answer written with ``d`` decimals (``0.7514``: d = 4; ``4.3857e-4``: d = 8; a whole
number: d = 0) is **right** when it lies within half a unit of its last decimal,
``1/2 * 10**-d``, of one of these values of the quantity:

* the exact value;
* the value of a hand calculation that rounds every intermediate it computes to K
  decimals (half away from zero) and reuses the rounded number, for each
  K = d, d + 1, ..., d + 6;
* each of the above computed with the student's own written numbers put in where they
  wrote one (their rounded ``out_h1 = 0.5933`` is what they multiplied by). Such a
  match is *right* when every written number it was computed from is right, and
  *consistent with* the first wrong one otherwise (follow-through credit).

A number written with more than 12 significant digits was printed by a program, not
written by hand; it is judged as if written to 6 significant digits (single-precision
floats, as PyTorch uses by default, hold about 7).

Why this never rejects a careful student: a student who keeps at least as many
decimals in every intermediate as they write in the answer (or keeps them all) gets
exactly one of the listed values before rounding the answer once, so the answer is
within half a unit of its last decimal of it; the drift their rounded intermediates
cause is covered because that very drift is what the K-rounded calculation
reproduces, step for step, from the same numbers. Why it does not accept a wrong
step: the accepted set is at most 16 intervals, each only as wide as the answer's own
last decimal, around values that a *correct* calculation produces; a wrong step moves
the value away from all of them by its own effect, and is accepted only when that
effect is smaller than the precision the student wrote, when no one could tell from
the number. (``0.7514`` is right for out_o1 = 0.751365...; ``0.7513`` is not: it
differs by 0.65 units of the last decimal from the exact value and by more from every
4- to 10-decimal hand calculation.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from derive.core.numeric import is_exact, round_decimal, to_decimal, to_mp
from derive.core.steps import Steps
from derive.documents.printing import shown
from derive.errors import DeriveError

#: a number with more significant digits than this was printed by a program
MACHINE_DIGITS = 12
#: ... and is judged to this many significant digits
MACHINE_SIGNIFICANT = 6
#: hand calculations rounding to d, d + 1, ..., d + EXTRA_PLACES decimals are considered
EXTRA_PLACES = 6


def written_places(number) -> int:
    """The decimals an answer is judged to: as written, or 6 significant digits for machine output."""
    if isinstance(number, int):
        return 0
    number = Decimal(number)
    sign, digits, exponent = number.as_tuple()
    places = max(0, -exponent)
    significant = len(str(int("".join(map(str, digits)) or "0"))) if any(digits) else 0
    if significant > MACHINE_DIGITS:
        places = min(places, MACHINE_SIGNIFICANT - 1 - number.adjusted())
    return places


def written_digits(number) -> int:
    """Significant digits as written (for messages)."""
    if isinstance(number, int):
        return len(str(abs(number)).lstrip("0")) or 1
    digits = Decimal(number).as_tuple().digits
    return len(str(int("".join(map(str, digits)) or "0")))


@lru_cache(maxsize=256)
def tolerance(places: int) -> Fraction:
    """Half a unit of the last decimal."""
    return Fraction(1, 2) * Fraction(10) ** -places


def agrees(value, reference, places: int, slack=0) -> bool:
    """|value - reference| <= 1/2 * 10**-places + slack, exactly for rationals, to 60 digits otherwise."""
    if is_exact(value) and is_exact(reference) and is_exact(slack):
        bound = tolerance(places)
        return abs(value - reference) <= (bound + slack if slack else bound)
    bound = (to_mp(tolerance(places)) + to_mp(slack)) * (1 + to_mp(10) ** -40)
    return abs(to_mp(value) - to_mp(reference)) <= bound


def hand_places(places: int) -> list[int | None]:
    """The rounding of intermediates a careful hand calculation of a d-decimal answer may use (None: none)."""
    first = max(places, 0)
    return [None] + list(range(first, first + EXTRA_PLACES + 1))


# -- the answer key of a hand calculation -----------------------------------------------------

def answer_key(steps, places: int) -> dict:
    """Every computed quantity of a calculation that rounds each intermediate to ``places`` decimals.

    Returns name -> (rounded Decimal, exact value). Given numbers (inputs, targets,
    parameters) are used as given and are not part of the key.
    """
    world = steps.world(places=places)
    key = {}
    for step in steps:
        if step.given:
            continue
        value = world.computed(step.name)
        key[step.name] = (round_decimal(value, places), steps.exact(step.name))
    return key


@dataclass(frozen=True)
class Accepted:
    """An answer written to the sheet's decimals that the verdict rule accepts, and why."""

    value: Decimal
    roundings: tuple  # the hand calculations it comes from: None (no rounding) or K (every step to K decimals)

    @property
    def text(self) -> str:
        """The value as written, every decimal kept."""
        return plain(self.value)

    def reason(self) -> str:
        """A few words: 'rounding every step to 4 or 5 decimals', 'from unrounded values'."""
        Ks = sorted(K for K in self.roundings if K is not None)
        rounding = f"rounding every step to {_span(Ks)} decimals" if Ks else ""
        if None in self.roundings:
            return "from unrounded values" + (f" (or {rounding})" if rounding else "")
        return rounding


def _span(numbers: list[int]) -> str:
    """'4', '4 or 5', '5 to 10', '4, 6 to 10': runs of consecutive numbers."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    words = [str(r[0]) if len(r) == 1 else f"{r[0]} or {r[1]}" if len(r) == 2 else f"{r[0]} to {r[-1]}" for r in runs]
    return ", ".join(words)


def within(value, places: int) -> list[Decimal]:
    """Every number written to ``places`` decimals that :func:`agrees` with ``value`` at ``places`` decimals.

    One number, or two when the value lies exactly half-way (0.65035 accepts 0.6503 and 0.6504;
    a 60-digit value within 1e-40 of a tie, as :func:`agrees` allows, counts as one).
    """
    # x * scale = a / b exactly; the bounds x * scale -+ (1 + slack) / 2 with c / d = (1 + slack) / 2, in integers
    scale = 10**places
    if is_exact(value):
        x = Fraction(value)
        a, b, c, d = x.numerator * scale, x.denominator, 1, 2
    else:  # the binary value exactly, with agrees' relative slack of 1e-40
        sign, man, exp, _ = to_mp(value)._mpf_
        a, b = (-man if sign else man) * scale, 1
        if exp >= 0:
            a <<= exp
        else:
            b <<= -exp
        c, d = _SLACK + 1, 2 * _SLACK
    low, high = -((c * b - d * a) // (d * b)), (d * a + c * b) // (d * b)
    return [Decimal(k).scaleb(-places) for k in range(low, high + 1)]


_SLACK = 10**40


def accepted_answers(steps, places: int, names) -> dict:
    """For each step in ``names``, every answer written to ``places`` decimals the verdict rule calls right.

    The answers of :func:`derive.grading.check.check` for an answer judged alone: within half a
    unit of its last decimal of the exact value or of a hand calculation rounding every step to
    K = places ... places + EXTRA_PLACES decimals (:func:`hand_places`). The value of the sheet's
    own calculation (every step to ``places``) comes first, then the exact value rounded.
    Returns name -> tuple of :class:`Accepted`.
    """
    family = hand_places(places)
    order = [places, None] + [K for K in family if K not in (places, None)]
    worlds = {K: steps.world(places=K) for K in order}
    found = {}
    for name in names:
        by_value: dict = {}
        for K in order:
            for value in within(worlds[K].computed(name), places):
                by_value.setdefault(value, []).append(K)
        found[name] = tuple(Accepted(v, tuple(Ks)) for v, Ks in by_value.items())
    return found


def toml_key(name: str) -> str:
    """A TOML key: bare when it can be, else quoted."""

    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plain(d: Decimal) -> str:
    """A Decimal in fixed point, every written decimal kept."""
    text = format(d, "f")
    return "0" + text[text.index("."):] if text.startswith("-0.") and not d else text


def key_text(solution, steps, places: int) -> tuple[str, str]:
    """The answer key as a TOML answers file with the drift of each value, and a one-line summary."""
    key = answer_key(steps, places)
    unit = Fraction(10) ** -places
    off, largest, where = 0, Fraction(0), None
    rows = []
    for name, (rounded, exact) in key.items():
        correct = round_decimal(exact, places)
        drift = Fraction(rounded) - Fraction(to_decimal(exact, 60))
        ulps = int((Fraction(rounded) - Fraction(correct)) / unit)
        if ulps:
            off += 1
        if abs(drift) > largest:
            largest, where = abs(drift), name
        note = f"exact {_exact_text(exact, places)}, drift {_signed(drift, places)}"
        if ulps:
            note += f"; the exact value rounded is {plain(correct)}"
        rows.append((f"{toml_key(name)} = {plain(rounded)}", note))
    width = max(len(left) for left, _ in rows)
    spec = solution.spec
    summary = (
        f"rounding every intermediate to {places} decimals: {off} of {len(key)} values differ from the exact value "
        f"rounded to {places} decimals"
        + (f"; the largest drift is {_signed(largest, places).lstrip('+')} at {where}" if where else "")
    )
    header = [
        f"# The answer key of a hand calculation of {spec.title!s}",
        f"# ({spec.name}) that rounds every intermediate to {places} decimals, half away from zero, and",
        "# reuses the rounded number in the steps that follow. Given numbers are used as given.",
        "# Each line: the key's value, the exact value, and the drift (the key minus the exact value).",
        f"# {summary[0].upper()}{summary[1:]}.",
        "# This file is an answers file: `derive check SPEC THIS_FILE` accepts every value.",
        "",
    ]
    body = [f"{left.ljust(width)}  # {note}" for left, note in rows]
    return "\n".join(header + body) + "\n", summary


def _exact_text(x, places: int) -> str:

    return shown(x, max(9, places + 3)).text


def _signed(x: Fraction, places: int) -> str:
    if x == 0:
        return "0"
    d = round_decimal(x, places + 3)
    if d.is_zero():
        return f"{'+' if x > 0 else '-'}{float(abs(x)):.1e}"
    text = format(d, "f")
    return text if text.startswith("-") else "+" + text


def key_files(solution, places: int) -> tuple[dict, str]:
    """``{answer-key-Kdp.toml: text}`` and the drift summary, for ``derive solve --round-intermediate K``."""

    if not 0 <= places <= 30:
        raise DeriveError("--round-intermediate", f"expected a number of decimals from 0 to 30, got {places}")
    steps = Steps(solution)
    steps.verify()
    text, summary = key_text(solution, steps, places)
    return {f"answer-key-{places}dp.toml": text}, summary
