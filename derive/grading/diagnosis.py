"""Diagnosis with a budget: each candidate mistake is evaluated once, on the student's own numbers.

A :class:`Candidate` is one mistake of :func:`derive.mistakes.variants` prepared for
a network: the formulas it changes (found once, not per answer) and the steps whose
value it can change, with and without the student's written numbers (a written
number stops the change: later steps use what the student wrote). A mistake's world
computes only those steps; every other value is the world without the mistake's,
shared by all candidates (:class:`derive.steps.World`). :mod:`derive.check` tries
the candidates one after the other, keeps for each only the answers it reproduces
and lets its worlds go, so that memory stays that of a handful of worlds whatever
the number of answers.

The work is counted in steps computed; :data:`BUDGET` bounds it and a job that
would need more is refused up front with the option that raises the limit.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from derive.core.numeric import to_float
from derive.errors import DeriveError

#: the default bound on the work of one check, in step values computed by the mistakes' worlds
BUDGET = 50_000_000
#: the default bound on the answers of one file
MAX_ANSWERS = 50_000


@dataclass(frozen=True)
class Candidate:
    """A mistake prepared for one network: its changed formulas and the steps it can change."""

    index: int  # its place in the preference order of derive.mistakes.variants
    mistake: object
    changed: dict  # step name -> the formula the mistake computes it with
    affected: dict  # yours (bool) -> frozenset of the step names whose value can change

    def can_change(self, name: str, yours: bool) -> bool:
        """True when the mistake can change ``name``'s value (with the student's numbers when ``yours``)."""
        return name in self.affected[yours]


def children(steps) -> dict:
    """Each step's name -> the names of the steps whose formulas use it."""
    found: dict = {}
    for step in steps:
        if not step.given:
            for parent in steps.parents(step.formula):
                found.setdefault(parent, []).append(step.name)
    return found


def downstream(start, below: dict, written=()) -> frozenset:
    """``start`` and every step computed from them, not passing through the ``written`` ones."""
    seen, stack = set(start), list(start)
    while stack:
        name = stack.pop()
        if name in written:
            continue
        for child in below.get(name, ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return frozenset(seen)


def candidates(steps, mistakes, written, below: dict):
    """Every mistake that changes some formula of this network, prepared (a generator: one at a time)."""
    for index, m in enumerate(mistakes):
        changed = {}
        for step in steps:
            if not step.given:
                formula = m.formula(step, steps)
                if formula is not None:
                    changed[step.name] = formula
        if changed:
            affected = {False: downstream(changed, below), True: downstream(changed, below, written)}
            yield Candidate(index, m, changed, affected)


def refuse_if_too_big(source: str, mistakes: int, steps: int, budget: int) -> None:
    """Refuse, before any candidate is tried, a diagnosis that could take more work than ``budget``."""
    work = 16 * mistakes * steps  # at most 16 worlds a mistake: 8 roundings, with and without the student's numbers
    if work > budget:
        raise DeriveError(source, f"diagnosing the wrong answers could take up to {work} step evaluations "
                          f"({mistakes} known mistakes x {steps} steps x 16), more than the budget of {budget}; "
                          "--budget raises it")


class ValueIndex:
    """The exact values of the steps sorted by size: which step has a given value, without a scan."""

    def __init__(self, named_values):
        rows = sorted((_float(value), order, name) for order, (name, value) in enumerate(named_values))
        self.keys = [row[0] for row in rows]
        self.rows = rows

    def near(self, x: float, width: float):
        """The names whose value lies within ``width`` of ``x`` (floats: confirm exactly), in their given order."""
        x = _float(x)
        width = width + abs(x) * 1e-12  # the doubles' own rounding, relative to the size
        low = bisect.bisect_left(self.keys, x - width)
        high = bisect.bisect_right(self.keys, x + width)
        return [name for _, _, name in sorted(self.rows[low:high], key=lambda row: row[1])]


def _float(value) -> float:
    """The nearest double, infinite beyond the range of doubles (for sorting only)."""
    try:
        return to_float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")
