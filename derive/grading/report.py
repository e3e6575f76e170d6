"""The verdicts of a check and the one page that reports them, whatever was checked.

A network's answers (:mod:`derive.grading.check`), a circuit's (:mod:`derive.grading.circuits`)
and formula answers (:mod:`derive.grading.formulas`) are judged by their own rules but reported
alike: a table of every answer, a summary, then the wrong answers, those that go wrong at the
same step for the same reason together, each with its diagnosis and the right steps. Each
checker builds a :class:`Page`; the templates ``md/check.txt.j2`` and ``md/check.md.j2`` write it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from derive.formats import escape
from derive.formats.render import render
from derive.grading.answers import Answer

RIGHT, CONSISTENT, WRONG = "right", "consistent", "wrong"


@dataclass(frozen=True)
class Diagnosis:
    """A known mistake that reproduces a wrong answer."""

    mistake: object
    title: str
    sentence: str
    entry: str  # the step where the mistake enters


@dataclass(frozen=True)
class Result:
    """The verdict on one answer."""

    answer: Answer
    exact: object
    places: int  # the decimals it is judged to
    verdict: str  # right, consistent, wrong
    matched: str  # what it agreed with: 'exact', 'rounded to K decimals', 'your numbers', ...
    follows: tuple[str, ...] = ()  # the wrong answers a consistent one follows from
    yours: object = None  # the value computed from the student's own numbers, when they differ from exact
    diagnoses: tuple[Diagnosis, ...] = ()
    note: str = ""  # the explanation when no mistake is named

    @property
    def name(self) -> str:
        return self.answer.name


@dataclass(frozen=True)
class Step:
    """A right step, as plain-text lines and as one LaTeX equation."""

    text: tuple[str, ...]
    latex: str

    @property
    def line(self) -> str:
        """The step on one line (several steps listed together)."""
        return self.text[0] + "".join(" " + part.strip() for part in self.text[1:])

    @property
    def aligned(self) -> str:
        """The equation as a row of an aligned block: 'lhs &= ...'."""
        lhs, rest = self.latex.split(" = ", 1) if " = " in self.latex else (self.latex, "")
        return f"{lhs} &= {rest}"


@dataclass(frozen=True)
class Line:
    """One answer in the table: the quantity as the answer names it, the answer, the exact value, the verdict."""

    name: str  # the quantity's own name (headings of wrong answers)
    quantity: str  # as the answer names it (the table)
    given: str
    exact: str  # "" where there is no number to compare (formulas)
    verdict: str


@dataclass(frozen=True)
class Wrong:
    """Wrong answers that go wrong at one step for one reason, with what explains them."""

    answers: tuple[Line, ...]
    entry: str  # the step where they go wrong
    diagnosis: str  # the named mistake's sentence, or the note when none is named
    named: bool
    also: tuple[str, ...]  # other mistakes the value fits
    where: Step | None  # the right step where the mistake enters, when that is another step
    steps: tuple[Step, ...]  # the right steps of the answers (not of given numbers)


@dataclass(frozen=True)
class Page:
    """A check's report, ready for a template."""

    heading: str  # the terminal report's first line
    title: str  # the title of what was checked (the Markdown report's heading: "Checking answers: <title>")
    intro: str  # the Markdown report's first paragraph (Markdown)
    exact: bool  # whether the table has an exact-value column
    answers: tuple[Line, ...]
    summary: str
    readings: str  # names read in a textbook's convention ("" when none)
    wrong: tuple[Wrong, ...]
    right: str = "step"  # what a right answer is here: a step, or a formula
    code_given: bool = False  # answers that are text (formulas) shown as code in Markdown
    checking: str = "answers"  # what the heading says is checked


RULE = ("An answer is right when it agrees with the exact value to the decimals it is written with, allowing for "
        "the rounding of intermediates a careful hand calculation does; an answer computed correctly from an "
        "earlier wrong answer is marked consistent with it, so that one slip counts once.")


def heading(title: str, name: str, source: str) -> str:
    """The terminal report's first line: what was checked and where the answers came from."""
    return f"{title} ({name}): " + (f"answers from {source}" if source else "the answers given")


def answers_from(source: str) -> str:
    """The Markdown report's words for where the answers came from."""
    return f"The answers in {escape.code(source)}" if source else "The answers given"


def verdict_words(r) -> str:
    """The verdict in words, naming the first mistake that explains a wrong answer."""
    if r.verdict == RIGHT:
        return "right"
    if r.verdict == CONSISTENT:
        return "consistent with your " + ", ".join(r.follows)
    return "wrong: " + r.diagnoses[0].title if r.diagnoses else "wrong"


def grouped(results) -> list[list]:
    """The wrong answers, those that go wrong at the same earlier step for the same reason together."""
    groups: dict = {}
    for r in results:
        if r.verdict != WRONG:
            continue
        first = r.diagnoses[0] if r.diagnoses else None
        key = (first.title, first.entry) if first and first.entry != r.name else r.name
        groups.setdefault(key, []).append(r)
    return list(groups.values())


def summary(results, noun: str = "answer", steps: bool = True) -> str:
    """'N answers: R right, W wrong, C consistent ...', and (``steps``) at how many steps the wrong ones go wrong."""
    n = len(results)
    count = {v: sum(r.verdict == v for r in results) for v in (RIGHT, WRONG, CONSISTENT)}
    parts = [f"{count[RIGHT]} right", f"{count[WRONG]} wrong"]
    if count[CONSISTENT]:
        parts.append(f"{count[CONSISTENT]} consistent with an earlier wrong answer (not counted again)")
    text = f"{n} {noun}{'s' if n != 1 else ''}: " + ", ".join(parts) + "."
    places = len(grouped(results)) if steps else count[WRONG]
    if places < count[WRONG]:
        text += f" The {count[WRONG]} wrong answers go wrong at {places} step{'s' if places != 1 else ''}."
    return text


def wrong(results, line: Callable, step: Callable[[str], Step | None]) -> tuple[Wrong, ...]:
    """The groups of wrong answers: ``line(r)`` is an answer's table line, ``step(name)`` the right step of a
    quantity (None for a given number)."""
    out = []
    for group in grouped(results):
        r = group[0]
        first = r.diagnoses[0] if r.diagnoses else None
        out.append(Wrong(
            answers=tuple(line(g) for g in group),
            entry=first.entry if first else r.name,
            diagnosis=first.sentence if first else r.note,
            named=first is not None,
            also=tuple(d.title for d in r.diagnoses[1:]),
            where=step(first.entry) if first and first.entry != r.name else None,
            steps=tuple(s for s in (step(g.name) for g in group) if s is not None),
        ))
    return tuple(out)


def numbers_page(spec, source: str, against: str, results, line: Callable, step: Callable, readings: str = "") -> Page:
    """The page of a check of numbers: ``against`` says what the answers were checked against (Markdown),
    ``line`` and ``step`` give an answer's table line and a quantity's right step (see :func:`wrong`)."""
    return Page(
        heading=heading(spec.title, spec.name, source),
        title=spec.title,
        intro=f"{answers_from(source)}, checked against {against}. {RULE}",
        exact=True,
        answers=tuple(line(r) for r in results),
        summary=summary(results),
        readings=readings,
        wrong=wrong(results, line, step),
    )


def to_text(page: Page) -> str:
    """The terminal report."""
    rows = [("quantity", "given", "exact", "verdict") if page.exact else ("quantity", "given", "verdict")]
    rows += [(a.quantity, a.given, a.exact, a.verdict) if page.exact else (a.quantity, a.given, a.verdict)
             for a in page.answers]
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]) - 1)]
    table = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1] for row in rows]
    return render("md/check.txt.j2", page=page, table=table)


def to_markdown(page: Page) -> str:
    """The Markdown report, the right steps in LaTeX."""
    return render("md/check.md.j2", page=page, md=escape.markdown, code=escape.code)
