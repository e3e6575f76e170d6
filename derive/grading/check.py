"""Check a hand calculation (or a program's printout) against the exact worked solution.

For every answer: is it right to the precision written (:mod:`derive.grading.rounding` states
the rule), is it consistent with the student's own earlier numbers (follow-through:
one slip is counted once), and when it is wrong, which known mistake
(:mod:`derive.grading.mistakes`) reproduces it, with the step where the mistake enters and
the right step. The report is a terminal table, Markdown with LaTeX, or JSON.

>>> from derive.grading.check import check_text
>>> report = check_text("mazur", 'out_o1 = 0.7514\\n"dE/dw5" = 0.0822\\nw5_new = 0.3589\\n')
>>> [r.verdict for r in report.results]
['right', 'right', 'right']
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from derive.core.conventions import get as get_convention
from derive.core.derivation import _same
from derive.core.numeric import to_float
from derive.core.solve import solve
from derive.core.steps import Steps, formula_text
from derive.core.versions import load
from derive.documents.printing import latex as tex
from derive.documents.printing import shown, with_numbers
from derive.errors import DeriveError
from derive.formats import escape
from derive.formats.registry import Format, Formats
from derive.grading import diagnosis
from derive.grading import mistakes as mk
from derive.grading import report
from derive.grading.answers import Answer, from_data
from derive.grading.answers import load as load_answers
from derive.grading.answers import parse as parse_answers
from derive.grading.report import CONSISTENT, RIGHT, WRONG, Diagnosis, Result
from derive.grading.rounding import (agrees, hand_places, tolerance,
                                     written_places)
from derive.io.export import dumps

DIGITS = 9  # significant digits of the exact values and worked steps in the report


@dataclass
class Report:
    """Every verdict of one answers file."""

    steps: Steps
    source: str
    results: list[Result] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.results)

    def _repr_markdown_(self) -> str:
        """Jupyter shows a report as its Markdown: every verdict, where each mistake enters, the corrected steps."""
        return to_markdown(self)

    @property
    def exit_code(self) -> int:
        return 0 if all(r.verdict == RIGHT for r in self.results) else 1

    def summary(self) -> str:
        return report.summary(self.results)


class Checker:
    """Verdicts for a set of answers, with the worlds (recomputations) they need, made on demand.

    The diagnosis of the wrong answers tries each candidate mistake once for all of
    them (:mod:`derive.diagnosis`): its worlds are computed, the wrong answers it
    reproduces noted with where the mistake enters, and its worlds dropped.
    """

    def __init__(self, steps: Steps, answers: list[Answer], progress=None, budget: int | None = None):
        self.steps = steps
        self.answers = {a.name: a for a in answers}
        self.written = {a.name: steps.lift(a.value) for a in answers}
        self.variants = mk.variants(steps.spec)
        self.order = {name: i for i, name in enumerate(steps.steps)}
        self.progress = progress
        self.budget = diagnosis.BUDGET if budget is None else budget
        self._worlds: dict = {}
        self._results: dict[str, Result] = {}
        self._frontier: dict[str, tuple] = {}
        self._slacks: dict = {}
        self._fine: dict[str, bool] = {}
        self._candidate = None  # the candidate whose worlds are being computed
        self._found: dict | None = None  # answer name -> [(sort key, Diagnosis)], once the candidates are tried
        self._values: dict = {}
        self._prepared: dict = {}  # mistake -> Candidate, for callers that ask about one mistake at a time
        self._below: dict | None = None
        self._entered: dict = {}  # (mistake, yours, step) -> the mistake changes the step's value in its world

    def world(self, mistake=None, yours: bool = False, places=None):
        key = (mistake, yours, places)
        if key not in self._worlds:
            written = self.written if yours else None
            candidate = self._candidate
            if mistake is not None and candidate is not None and candidate.mistake == mistake:
                self._worlds[key] = self.steps.world(mistake, written, places, base=self.world(None, yours, places),
                                                     changed=candidate.changed, affected=candidate.affected[yours])
            else:
                self._worlds[key] = self.steps.world(mistake, written, places)
        return self._worlds[key]

    # -- follow-through ----------------------------------------------------------------
    def frontier(self, name: str, mistake=None) -> tuple[str, ...]:
        """The written answers a step is computed from, through the steps the student did not write."""
        key = (name, mistake)
        if key not in self._frontier:
            world = self.world(mistake, True)
            found, seen, stack = set(), set(), [name]
            while stack:
                current = stack.pop()
                step = self.steps[current]
                if step.given:
                    continue
                for parent in self.steps.parents(world.formula(step)):
                    if parent in seen:
                        continue
                    seen.add(parent)
                    if parent in self.written:
                        found.add(parent)
                    else:
                        stack.append(parent)
            self._frontier[key] = tuple(sorted(found, key=self.order.get))
        return self._frontier[key]

    def slack(self, name: str, mistake=None):
        """How much the rounding of the written numbers a step uses can move it (first order).

        The student may have carried more digits than they wrote: each written input p
        is uncertain by half a unit of its last decimal, and its effect on the step is
        measured by recomputing the step with p moved by that much (in a world thrown
        away after: one per step and input would fill the memory on a large network).
        """
        key = (name, mistake)
        if key not in self._slacks:
            world = self.world(mistake, True)
            base = world.computed(name)
            total = 0
            for p in self.frontier(name, mistake):
                h = tolerance(written_places(self.answers[p].number))
                # the written numbers with p moved: an overlay, not a copy of every answer for each input
                written = ChainMap({p: self.written[p] + self.steps.lift(h)}, self.written)
                moved = self.steps.world(mistake, written, None, changed=world.changed)
                total = total + abs(moved.computed(name) - base)
            self._slacks[key] = total
        return self._slacks[key]

    def roots(self, name: str) -> tuple[str, ...]:
        """The wrong answers (not merely consistent ones) that a step's written inputs go back to."""
        found = []
        for parent in self.frontier(name):
            result = self.result(parent)
            if result.verdict == WRONG:
                found.append(parent)
            elif result.verdict == CONSISTENT:
                found.extend(result.follows)
        return tuple(sorted(set(found), key=self.order.get))

    def _agrees_in(self, answer: Answer, places: int, mistake, yours: bool, family) -> object:
        """The first rounding of ``family`` whose world agrees with the answer, or False."""
        for K in family:
            value = self.world(mistake, yours, K).computed(answer.name)
            if agrees(answer.value, value, places):
                return "exact" if K is None else K
            if yours and K is None and agrees(answer.value, value, places, self.slack(answer.name, mistake)):
                return "exact"
        return False

    def fine(self, name: str) -> bool:
        """True when an answer is right or consistent (the verdict without its details)."""
        if name not in self._fine:
            a = self.answers[name]
            d = written_places(a.number)
            self._fine[name] = (self._agrees_in(a, d, None, False, hand_places(d)) is not False
                                or (bool(self.frontier(name))
                                    and self._agrees_in(a, d, None, True, hand_places(d)) is not False))
        return self._fine[name]

    # -- the verdict ---------------------------------------------------------------------
    def result(self, name: str) -> Result:
        if name not in self._results:
            self._results[name] = self._judge(self.answers[name])
        return self._results[name]

    def _judge(self, a: Answer) -> Result:
        steps = self.steps
        step = steps[a.name]
        exact = steps.exact(a.name)
        d = written_places(a.number)
        family = hand_places(d)
        if step.given:
            if agrees(a.value, exact, d):
                return Result(a, exact, d, RIGHT, "exact")
            return Result(a, exact, d, WRONG, "", note=self._given_note(a, d))
        how = self._agrees_in(a, d, None, False, family)
        if how is not False:
            return Result(a, exact, d, RIGHT, "exact" if how == "exact" else f"rounded to {how} decimals")
        front = self.frontier(a.name)
        yours = self.world(None, True).computed(a.name) if front else None
        if front:
            how = self._agrees_in(a, d, None, True, family)
            if how is not False:
                roots = self.roots(a.name)
                matched = "your numbers" if how == "exact" else f"your numbers, rounded to {how} decimals"
                if not roots:
                    return Result(a, exact, d, RIGHT, matched)
                return Result(a, exact, d, CONSISTENT, matched, follows=roots, yours=yours)
        diagnoses = self._diagnose(a)
        note = ""
        if not diagnoses:
            note = self._slip_note(a, d, exact, yours)
        return Result(a, exact, d, WRONG, "", yours=yours if front else None, diagnoses=diagnoses, note=note)

    def _slip_note(self, a: Answer, d: int, exact, yours) -> str:
        """What to say about a wrong answer no known mistake explains."""
        for reference, whose in ((exact, "the right value"), (yours, "the value your own numbers give")):
            if reference is not None and reference != 0 and agrees(-a.value, reference, d):
                return (f"Your number has the size of {whose}, {shown(reference, DIGITS).text}, but the opposite "
                        "sign: check the signs in this step.")
        note = "No mistake derive knows reproduces this value: look for a slip in this step's arithmetic."
        if d >= 3:
            for other in self._near(a.value, d, given=False):
                if other != a.name and agrees(a.value, self.steps.exact(other), d):
                    note += f" Your number is the value of {other}: was it written in the wrong place?"
                    break
        if yours is not None and not agrees(yours, exact, d + 2):
            note += f" From your own numbers the step gives {shown(yours, DIGITS).text}."
        return note

    def _given_note(self, a: Answer, d: int) -> str:
        steps = self.steps
        text = f"{a.name} is given in the problem: {a.name} = {shown(steps.exact(a.name), DIGITS).text}."
        for other in self._near(a.value, d, given=True):
            if other != a.name and agrees(a.value, steps.exact(other), d):
                return text + f" Your number is {other}'s: the two may have been mixed up."
        return text

    def _near(self, value, d: int, given: bool) -> list[str]:
        """The steps (given ones, or all) whose exact value may agree with ``value`` to ``d`` decimals, in order."""
        if given not in self._values:  # sorted once: a file of many wrong answers is not a scan per answer
            self._values[given] = diagnosis.ValueIndex((s.name, self.steps.exact(s.name)) for s in self.steps
                                                       if s.name != "eta" and (s.given or not given))
        return self._values[given].near(value, float(tolerance(d)) * 1.001 + 1e-300)

    # -- the diagnosis ---------------------------------------------------------------------
    def _diagnose(self, a: Answer) -> tuple[Diagnosis, ...]:
        if self._found is None:
            self._try_candidates()
        found, titles = [], set()
        for _, diagnosed in sorted(self._found.get(a.name, ()), key=lambda item: item[0]):
            if diagnosed.title not in titles:
                titles.add(diagnosed.title)
                found.append(diagnosed)
        return tuple(found)

    def _try_candidates(self) -> None:
        """Try every candidate mistake once on all the wrong answers; keep what each reproduces."""
        steps = self.steps
        wrong = [name for name in self.answers if not steps[name].given and not self.fine(name)]
        self._found = {}
        if not wrong:
            return
        diagnosis.refuse_if_too_big(self.steps.spec.source, len(self.variants), len(steps.steps), self.budget)
        places = {name: written_places(self.answers[name].number) for name in wrong}
        yours_first = {name: (True, False) if self.frontier(name) else (False,) for name in wrong}
        below = diagnosis.children(steps)
        total = len(self.variants)
        for candidate in diagnosis.candidates(steps, self.variants, self.written, below):
            self._candidate = candidate
            m = candidate.mistake
            reproduced = []
            for name in wrong:
                for yours in yours_first[name]:
                    if (candidate.can_change(name, yours)
                            and self._agrees_in(self.answers[name], places[name], m, yours, (None, places[name]))
                            is not False):
                        reproduced.append((name, yours))
                        break
            # a mistake that would have changed an answer judged right (or consistent) did not happen:
            # the student's own right numbers rule it out, whatever else it reproduces
            if reproduced and not self._against(candidate):
                title = m.title(steps)
                for name, yours in reproduced:
                    entry = self.entry(name, candidate, yours)
                    sentence = m.explain(steps[entry], steps)
                    key = (-len(reproduced), candidate.index)
                    self._found.setdefault(name, []).append((key, Diagnosis(m, title, sentence, entry)))
            # the candidate's worlds are not needed again: let them go
            for key in [k for k in self._worlds if k[0] is not None]:
                del self._worlds[key]
            for key in [k for k in self._frontier if k[1] is not None]:
                del self._frontier[key]
            for key in [k for k in self._slacks if k[1] is not None]:
                del self._slacks[key]
            self._candidate = None
            if self.progress:
                self.progress(candidate.index + 1, total, "diagnosing")
        if self.progress:
            self.progress(total, total, "diagnosing")

    def _against(self, candidate) -> int:
        """How many of the student's right (or consistent) answers this mistake contradicts (0: none).

        An answer contradicts the mistake when it is right (or consistent) and the mistake, made from the
        exact numbers or from the student's own, would not have given it. Only the answers the mistake can
        change are asked; the count stops at the first contradiction (one rules the mistake out).
        """
        m = candidate.mistake
        for name, a in self.answers.items():
            if self.steps[name].given or not candidate.can_change(name, False) or not self.fine(name):
                continue
            d = written_places(a.number)
            family = hand_places(d)
            kept = any(self._agrees_in(a, d, m, yours, family) is not False
                       for yours in ((True, False) if self.frontier(name) else (False,)))
            if not kept:
                return 1
        return 0

    def prepared(self, m) -> diagnosis.Candidate:
        """A mistake prepared for this network (its changed formulas, the steps it can change), made once."""
        found = self._prepared.get(m)
        if found is None:
            if self._below is None:
                self._below = diagnosis.children(self.steps)
            made = list(diagnosis.candidates(self.steps, [m], self.written, self._below))
            found = made[0] if made else diagnosis.Candidate(-1, m, {}, {False: frozenset(), True: frozenset()})
            self._prepared[m] = found
        return found

    def changes(self, m, name: str, yours: bool) -> bool:
        """True when the mistake changes a formula on the way to ``name``, so that it can change its value."""
        return self.prepared(m).can_change(name, yours)

    def entry(self, name: str, candidate, yours: bool) -> str:
        """The earliest step (in reading order) where the mistake changes the value, on the way to ``name``.

        ``candidate`` is a prepared mistake (:meth:`prepared`) or the mistake itself.
        """
        if not isinstance(candidate, diagnosis.Candidate):
            candidate = self.prepared(candidate)
        key = (candidate.mistake, yours, None)
        world = self._worlds.get(key)
        if world is None:
            # the steps the mistake cannot change keep the values of the world without it, computed once
            world = self._worlds[key] = self.steps.world(
                candidate.mistake, self.written if yours else None, None, base=self.world(None, yours),
                changed=candidate.changed, affected=candidate.affected[yours])
        affected = candidate.affected[yours]
        found, seen, stack = [], {name}, [name]
        while stack:
            current = stack.pop()
            step = self.steps[current]
            if step.given:
                continue
            changed = candidate.changed.get(current)
            if changed is not None and self._enters(world, candidate.mistake, yours, current, changed):
                found.append(current)
            for parent in self.steps.parents(changed if changed is not None else step.formula):
                # only a step the mistake can change leads to where it enters
                if parent not in seen and parent in affected and not (yours and parent in self.written):
                    seen.add(parent)
                    stack.append(parent)
        return min(found, key=self.order.get) if found else name

    def _enters(self, world, mistake, yours: bool, name: str, changed) -> bool:
        """True when the mistake's formula gives step ``name`` another value than the right one in its world
        (asked again for every blank the step leads to: answered once)."""
        key = (mistake, yours, name)
        found = self._entered.get(key)
        if found is None:
            found = self._entered[key] = not _same(world.evaluate(changed), world.evaluate(self.steps[name].formula))
        return found


def check(solution, answers: list[Answer], source: str = "answers", progress=None, budget: int | None = None,
          max_answers: int | None = None) -> Report:
    """Judge every answer; the results come in the worked solution's reading order.

    ``progress`` is called as ``progress(done, total, what)`` while the candidate
    mistakes are tried; ``budget`` bounds that work and ``max_answers`` the answers
    of one file (see :mod:`derive.diagnosis`; a larger job is refused with a message).
    """
    steps = solution if isinstance(solution, Steps) else Steps(solution)
    limit = diagnosis.MAX_ANSWERS if max_answers is None else max_answers
    if len(answers) > limit:
        raise DeriveError(source or "answers", f"{len(answers)} answers is more than a check is made for "
                          f"(at most {limit}); --max-answers raises the limit")
    checker = Checker(steps, answers, progress, budget)
    checked = Report(steps, source)
    checked.results = [checker.result(a.name) for a in answers]
    return checked


def _convention(spec, convention: str | None) -> str | None:
    """The convention answers are read in: the one asked for, else the spec's ([document] convention)."""
    if convention is not None:
        get_convention(convention, "--convention")
        return convention
    return spec.convention or None


#: the largest network a check is made for by default; --max-parameters raises it
MAX_PARAMETERS = 5000


def check_file(spec_source, answers_path, convention: str | None = None, progress=None, budget: int | None = None,
               max_answers: int | None = None, max_parameters: int | None = None) -> Report:
    """Load a spec (file or preset) and an answers file, and check (names and signs of ``convention``, a book's;
    the limits as for :func:`check`)."""

    spec = load(spec_source)
    limit = MAX_PARAMETERS if max_parameters is None else max_parameters
    if spec.parameter_count > limit:
        raise DeriveError(spec.source, f"{spec.parameter_count} parameters is more than a check is made for "
                          f"(at most {limit}); --max-parameters raises the limit")
    steps = Steps(solve(spec, progress=progress))
    steps.verify()
    answers = load_answers(answers_path, steps, _convention(steps.spec, convention))
    return check(steps, answers, Path(answers_path).name, progress, budget, max_answers)


def check_text(spec_source, text: str, kind: str = "toml", source: str = "", convention: str | None = None) -> Report:
    """Check answers given as TOML (or JSON) text; ``source`` names where it came from ('' when from code)."""

    steps = Steps(solve(load(spec_source)))
    answers = parse_answers(text, source or "answers", steps, kind, _convention(steps.spec, convention))
    return check(steps, answers, source)


def check_data(spec_source, answers, source: str = "", convention: str | None = None) -> Report:
    """Check answers given as Python data: a mapping of names (or tensor tables) to numbers, arrays, tensors."""

    steps = Steps(solve(load(spec_source)))
    return check(steps, from_data(answers, source or "answers", steps, _convention(steps.spec, convention)), source)


# -- the worked step ---------------------------------------------------------------------------

def _num(x) -> str:
    return shown(x, DIGITS).text


def step_text(steps: Steps, name: str) -> list[str]:
    """The right step in plain text: the formula, the numbers put in, the value (one per line)."""
    step = steps[name]
    value = _num(steps.exact(name))
    if step.given:
        return [f"{name} = {value} (given)"]
    general = formula_text(step.formula)
    numbers = {steps[p].symbol: _num(steps.exact(p)) for p in steps.parents(step.formula)}
    filled = formula_text(step.formula, numbers)
    lines = [f"{name} = {general}"]
    pad = " " * len(name)
    for part in (filled, value):
        if part != lines[-1].split(" = ", 1)[-1]:
            lines.append(f"{pad} = {part}")
    return lines


def step_latex(steps: Steps, name: str) -> str:
    """The right step in LaTeX: general form = numbers put in = value."""
    step = steps[name]
    x = steps.exact(name)
    s = shown(x, DIGITS)
    if step.given:
        return f"{step.latex} = {s.latex}"
    values = {steps[p].symbol: steps.exact(p) for p in steps.parents(step.formula)}
    general = tex(step.formula, steps.latex)
    filled = with_numbers(step.formula, steps.latex, values, DIGITS)
    parts = [step.latex, "=", general]
    if filled != general:
        parts += ["=", filled]
    if s.latex != filled:
        parts += [s.relation, s.latex]
    return " ".join(parts)


# -- the reports ---------------------------------------------------------------------------------

def _quantity(r: Result) -> str:
    """The quantity as the answer names it: derive's name, or a book's name with derive's ('Err6 = -delta_o1')."""
    a = r.answer
    if a.sign < 0:
        return f"{a.label} = -{r.name}"
    if a.reading or a.in_book:
        return f"{a.label} = {r.name}"
    return r.name


def _as_written(r: Result):
    """The exact value in the answer's own sign convention (a book's Err is -delta)."""
    return r.exact if r.answer.sign > 0 else -r.exact


def _readings(checked: Report) -> str:
    """The names that were read in another book's convention than the one chosen."""
    read = [f"{r.answer.label} as {r.answer.reading}" for r in checked.results if r.answer.reading]
    return "Names read in a textbook's convention: " + "; ".join(read) + "." if read else ""


def _step(steps: Steps, name: str) -> report.Step | None:
    """The right step of a quantity (None for a given number: the table shows it)."""
    return None if steps[name].given else report.Step(tuple(step_text(steps, name)), step_latex(steps, name))


def page(checked: Report) -> report.Page:
    """The report's page: every answer, then the wrong ones with their diagnoses and the right steps."""
    steps = checked.steps
    spec = steps.spec

    def line(r: Result) -> report.Line:
        return report.Line(r.name, _quantity(r), r.answer.text, _num(_as_written(r)), report.verdict_words(r))

    return report.numbers_page(spec, checked.source, f"the exact solution of {escape.code(spec.name)}",
                               checked.results, line, lambda name: _step(steps, name), _readings(checked))


def to_text(checked: Report) -> str:
    """The terminal report: a table of every answer, then each wrong answer with its diagnosis and the right step."""
    return report.to_text(page(checked))


def to_markdown(checked: Report) -> str:
    """The report in Markdown, the right steps in LaTeX."""
    return report.to_markdown(page(checked))


def to_document(checked: Report) -> dict:
    """The report as plain data (the JSON format)."""
    spec = checked.steps.spec
    answers = []
    for r in checked.results:
        entry = {
            "name": r.name,
            "label": r.answer.label,
            **({"sign": -1} if r.answer.sign < 0 else {}),
            **({"read_as": r.answer.reading} if r.answer.reading else {}),
            "given": r.answer.text,
            "decimals": r.places,
            "exact": to_float(_as_written(r)),
            "exact_text": _num(_as_written(r)),
            "verdict": r.verdict,
        }
        if r.matched:
            entry["matched"] = r.matched
        if r.follows:
            entry["follows_from"] = list(r.follows)
        if r.yours is not None:
            entry["from_your_numbers"] = to_float(r.yours)
        if r.verdict == WRONG:
            if r.diagnoses:
                first = r.diagnoses[0]
                entry["diagnosis"] = {
                    "mistake": first.mistake.kind,
                    "layer": first.mistake.layer,
                    "title": first.title,
                    "sentence": first.sentence,
                    "enters_at": first.entry,
                }
                if len(r.diagnoses) > 1:
                    entry["also_fits"] = [d.title for d in r.diagnoses[1:]]
            else:
                entry["note"] = r.note
            if not checked.steps[r.name].given:
                entry["right_step"] = {"text": step_text(checked.steps, r.name), "latex": step_latex(checked.steps, r.name)}
        answers.append(entry)
    return {
        "spec": spec.name,
        "title": spec.title,
        "answers_file": checked.source or None,
        "summary": {
            "answers": len(checked.results),
            "right": checked.count(RIGHT),
            "wrong": checked.count(WRONG),
            "consistent": checked.count(CONSISTENT),
        },
        "answers": answers,
    }


def to_json(checked: Report) -> str:

    return dumps(to_document(checked)) + "\n"


@dataclass(frozen=True)
class Checked:
    """A check's job (see derive.formats.registry): its report and the functions that write it as text, Markdown and
    JSON (a network's report or a circuit's, derive.grading.circuits)."""

    report: object
    text: Callable = to_text
    markdown: Callable = to_markdown
    json: Callable = to_json


#: the reports of derive check: printed (text by default) or written with --out
CHECKS = Formats("check", (
    Format("text", "check.txt", lambda job: {"check.txt": job.text(job.report)}),
    Format("md", "check.md", lambda job: {"check.md": job.markdown(job.report)}, default=False),
    Format("json", "check.json", lambda job: {"check.json": job.json(job.report)}, default=False),
))
