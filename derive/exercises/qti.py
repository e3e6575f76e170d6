"""Canvas quizzes: a worksheet's versions as a QTI 1.2 package that Canvas (Classic Quizzes) imports.

A Canvas numerical question holds one answer, so a version becomes a quiz of its own
(one QTI ``<assessment>``) whose questions are the version's blanks, in the sheet's
order. The quiz is titled ``TITLE (version SEED-NN)`` like the sheet, its key and the
Moodle question, so the teacher assigns each student their own version ("Assign to")
and ``derive check NAME@SEED-NN`` checks the same numbers. (Question groups cannot keep a
version together: Canvas draws every group on its own, so a student would be asked
``out_h1`` of one version after ``net_h1`` of another.)

Each question is a ``numerical_question`` worth the blank's marks. Its text asks for one
quantity and gives the version's numbers (the same givens as the Moodle question, from
the same template); it accepts every value the printed key and the Moodle export accept
(the key's value, and every other value the verdict rule of ``derive check`` accepts at
the sheet's decimals), each within half a unit of the last decimal asked for, in the
form Canvas itself exports: ``varequal`` or ``vargte``/``varlte``, which Canvas reads
back as an exact answer with that margin.

What Canvas allows for the named-mistake diagnosis: every answer of a Canvas numerical
question is a *correct* answer (there is no answer worth 0 % with its own feedback, as
Moodle's cloze has), and a question has three comments: general (``general_fb``, shown
after every submission), correct (``correct_fb``) and incorrect (``general_incorrect_fb``,
shown when the answer is not accepted). So the worked step and why each accepted value
is right are the general comment, and the values the commonest named mistakes give at
the blank, each with the mistake named and explained, are the incorrect-answer comment:
a student whose answer is wrong reads which mistake gives which value and finds theirs.
Mathematics is written as plain HTML (:mod:`derive.formats.plainmath`): Canvas keeps
``<sub>``/``<sup>`` everywhere, while LaTeX shows as source wherever Canvas does not
typeset it.

The package is an IMS content package: ``imsmanifest.xml`` and one ``quiz-ID.xml`` per
version. Identifiers are ASCII and made from the content, so importing the same package
again with "Overwrite assessment content with matching IDs" updates the quizzes rather
than adding copies. The zip is the same bytes for the same input: fixed timestamps and
permissions, files in a fixed order, deflated at level 9 (zlib's output for a given level
has not changed in its 1.2 and 1.3 releases; a different deflate library, such as zlib-ng,
would compress the same files to other bytes). Compression matters here: every question
repeats the version's numbers, and 40 versions of the 2-2-2 example are 9 MB stored, 0.2 MB
deflated.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal

from derive.errors import DeriveError
from derive.exercises.worksheet import STAGE_TITLES, by_stage, context, givens_html, true_minus
from derive.formats import escape
from derive.formats.plainmath import html_math
from derive.formats.render import escape_xml, render
from derive.grading.rounding import plain

#: Canvas replaces a question text longer than this with a notice that it was too long
MAX_QUESTION_TEXT = 16384
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class Answer:
    """One accepted value and the closed interval around it that scores full marks."""

    value: str
    low: str
    high: str


@dataclass(frozen=True)
class Item:
    """One question: a blank of the version, with its accepted answers and its worked step."""

    ident: str
    title: str  # the quantity's name, as answers files write it
    html: str  # the question: which quantity, then the version's given numbers
    answers: tuple
    feedback: str  # HTML: the worked step with the rounded numbers put in, and why each accepted value is right
    points: int = 1  # the blank's marks
    mistakes: str = ""  # HTML: the values the commonest named mistakes give here, each with the mistake explained


@dataclass(frozen=True)
class Quiz:
    """One version as one quiz."""

    ident: str
    title: str
    path: str
    items: tuple


def inline(latex: str) -> str:
    """A piece of the sheet's LaTeX as HTML: a number as itself (so it can be copied), the rest via plainmath."""

    return escape_xml(latex) if _NUMBER.fullmatch(latex) else html_math(latex)


def answers(blank) -> tuple:
    """The blank's accepted values, each with [value - tolerance, value + tolerance]."""

    tolerance = Decimal(blank.tolerance)
    return tuple(Answer(v, plain(Decimal(v) - tolerance), plain(Decimal(v) + tolerance)) for v in blank.values)


def _safe(text: str) -> str:
    """Text as an identifier or file name Canvas keeps as it is (derive.formats.escape.identifier)."""
    return escape.identifier(text)


def quiz(ex, sheet: dict) -> Quiz:
    """The quiz of one version (``sheet``: the version's sheet context, for its given numbers)."""

    givens = givens_html(ex, sheet, inline)
    title = f"{ex.title} (version {ex.ident})"
    content = repr((title, ex.places, givens, [(b.name, b.values, b.marks) for b in ex.blanks]))
    ident = f"derive_{_safe(ex.ident)}_{hashlib.sha256(content.encode()).hexdigest()[:12]}"
    titles = dict(STAGE_TITLES)
    in_order = [b for _, group in by_stage(ex) for b in group]
    items = []
    for k, b in enumerate(in_order, start=1):
        html = render("md/qti-question.html.j2", stage=titles[b.stage], number=k, count=len(in_order),
                      name=html_math(b.latex), givens=givens).rstrip("\n")
        if len(html) > MAX_QUESTION_TEXT:
            raise DeriveError("--format qti", f"the question text of {b.typed} is {len(html)} characters, and Canvas "
                              f"replaces one longer than {MAX_QUESTION_TEXT}: the network's numbers do not fit; "
                              "use the Moodle quiz or the printed sheets")
        items.append(Item(f"{ident}_q{k:03d}", b.typed, html, answers(b), general(b), b.marks, mistakes(b)))
    return Quiz(ident, title, f"quiz-{_safe(ex.ident)}.xml", tuple(items))


def general(blank) -> str:
    """The general comment: the worked step, and the calculation behind each accepted value when there are several."""
    step = html_math(" ".join(f"{lhs} {rel} {rhs}" for lhs, rel, rhs in blank.step))
    text = f"<p>Worked step: {step}</p>"
    if len(blank.accepted) > 1:
        text += "<p>Accepted: " + "; ".join(f"{escape_xml(true_minus(a.text))} ({escape_xml(a.reason())})"
                                            for a in blank.accepted) + ".</p>"
    return text


def mistakes(blank) -> str:
    """The incorrect-answer comment: each named mistake's value at this blank, the mistake, and why."""
    if not blank.distractors:
        return ""
    rows = []
    for d in blank.distractors:
        where = "" if d.here or d.entry == blank.typed else f" (made at an earlier step, {d.entry})"
        rows.append(f"<li><b>{escape_xml(true_minus(plain(d.value)))}</b>: {escape_xml(true_minus(d.title))}"
                    f"{escape_xml(where)}. {escape_xml(true_minus(d.sentence))}</li>")
    return "<p>Common mistakes give these values here:</p><ul>" + "".join(rows) + "</ul>"


def package(exercises: list, sheets: dict | None = None) -> bytes:
    """The QTI package of a batch: every version a quiz (``sheets``: the versions' sheet contexts, if built)."""

    quizzes = [quiz(ex, (sheets or {}).get(ex.ident) or context(ex, False)) for ex in exercises]
    course = exercises[0].meta.course  # the package is the course's quiz: Canvas lists it by this title
    return bundle(quizzes, f"{course}: {exercises[0].title}" if course else exercises[0].title)


def bundle(quizzes: list, title: str) -> bytes:
    """The QTI package of some quizzes: the manifest and one assessment file per quiz."""

    digest = hashlib.sha256("".join(q.ident for q in quizzes).encode()).hexdigest()[:12]
    files = [("imsmanifest.xml", render("md/qti-manifest.xml.j2", ident=f"derive_{digest}", title=title,
                                        quizzes=quizzes))]
    files += [(q.path, render("md/qti-assessment.xml.j2", quiz=q)) for q in quizzes]
    return zip_bytes(files)


def zip_bytes(files: list[tuple[str, str]]) -> bytes:
    """A zip of text files in the order given: the same bytes on every run (no clock, no user, no umask)."""

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the machine
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"), compresslevel=9)
    return buffer.getvalue()
