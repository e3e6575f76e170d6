"""The wrong answers a quiz recognises: what the commonest named mistakes give at each blank.

A distractor is the value a blank takes when a student makes one named mistake
(:mod:`derive.grading.mistakes`) and otherwise works as the sheet asks, rounding every
step to the sheet's decimals and reusing the rounded numbers. The value is
recomputed by the mistake catalogue (:meth:`derive.core.steps.Steps.world`), never written
down by hand. A quiz lists it at 0 % with feedback that names the mistake and gives the
right step, so a student learns which mistake they made from the quiz alone.

Only values that differ from every accepted answer by more than the tolerance are kept
(the same tolerance both ways: a d-decimal answer matches at most one of them), and at
most :data:`MOST` mistakes per blank, those whose mistake is made at the blank itself
first, then those made at an earlier step, in the order of :data:`COMMON`; where two mistakes give
the same value (w + eta*g from an update with + or from a flipped sign), the one made at
the blank names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from derive.grading import mistakes as mk
from derive.grading.check import Checker
from derive.grading.rounding import within

#: the mistakes students make most, most common first (a kind the network cannot have is skipped)
COMMON = ("sign_flipped", "derivative_at_out", "half_dropped", "updated_weights", "no_learning_rate", "update_plus",
          "derivative_left_out", "identity_at_net", "factor_two_forgotten", "one_path",
          "output_mean_dropped", "batch_mean_dropped", "relu_mask_on_output", "softmax_diagonal")
#: at most this many mistakes per blank
MOST = 4


@dataclass(frozen=True)
class Distractor:
    """A wrong value a named mistake produces at a blank."""

    value: Decimal  # to the sheet's decimals
    mistake: mk.Mistake
    title: str  # 'sign of (t - out) flipped'
    sentence: str  # what went wrong where the mistake enters, with the right formula and numbers
    entry: str  # the step where the mistake enters
    here: bool  # the mistake is made at this blank itself (or at an unasked step that feeds it)


def candidates(spec) -> list:
    """The mistakes considered, in the order of COMMON; for each kind its variants (every layer first)."""
    found = mk.variants(spec)
    return [m for kind in COMMON for m in found if m.kind == kind]


def distractors(steps, blanks, places: int, accepted: dict, tolerance: Decimal) -> dict:
    """name -> tuple of :class:`Distractor` for each blank step in ``blanks``."""

    mistakes = candidates(steps.spec)
    checker = Checker(steps, [])  # where a mistake enters, as derive check says it
    base = steps.world(places=places)

    def world(m):
        """The sheet's calculation with mistake ``m``: the steps it cannot change are the base world's, computed once."""
        candidate = checker.prepared(m)
        return steps.world(m, places=places, base=base, changed=candidate.changed, affected=candidate.affected[False])
    worlds = {m: world(m) for m in mistakes}

    def mistaken(m, name):
        """The value of ``name`` with mistake ``m``, every step rounded to ``places`` (one Decimal)."""
        return within(worlds[m].computed(name), places)[0]

    tol = Fraction(tolerance)
    asked = {step.name for step in blanks}
    found = {}
    for step in blanks:
        accepted_here = [Fraction(a.value) for a in accepted[step.name]]
        # the steps a mistake made "here" changes: the blank, and the unasked steps that feed it (a path)
        local = [step] + [steps[p] for p in steps.parents(step.formula) if p not in asked and not steps[p].given]
        ranked = []
        for m in mistakes:
            if checker.changes(m, step.name, False):
                here = next((s.name for s in local if m.formula(s, steps) is not None), None)
                ranked.append((here is None, len(ranked), m, here))
        # mistakes made here first: where two give the same value (w + eta*g from an update with + or from a
        # flipped sign), the one made at this step names it
        made, taken, kinds = [], list(accepted_here), set()
        for _, _, m, here in sorted(ranked):
            if m.kind in kinds:
                continue
            value = mistaken(m, step.name)
            exact = Fraction(value)
            if not all(abs(exact - t) > tol for t in taken):
                continue
            entry = here or checker.entry(step.name, m, False)
            if m.formula(steps[entry], steps) is None:
                continue  # the mistake changes nothing on the way here: the value differs by rounding alone
            made.append(Distractor(value, m, m.title(steps), m.explain(steps[entry], steps), entry, here is not None))
            taken.append(exact)
            kinds.add(m.kind)
            if len(made) == MOST:
                break
        found[step.name] = tuple(made)
    return found
