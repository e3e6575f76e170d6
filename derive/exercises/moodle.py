"""Moodle quizzes: a worksheet's versions as cloze questions in Moodle XML, one field per blank.

Each field is an embedded NUMERICAL answer worth the blank's marks. It accepts every
value the printed key accepts (the key's value first, each with the calculation that
gives it as feedback) and lists, at 0 %, the values the commonest named mistakes give
at that blank (:mod:`derive.exercises.distractors`), each with feedback that names the
mistake and shows the right step. A student who submits the quiz learns which mistake
they made from Moodle alone.

Cloze syntax (Moodle's ``qtype_multianswer``): ``{MARKS:NUMERICAL:=V:TOL#FEEDBACK~%0%W:TOL#FEEDBACK}``.
A feedback ends at the first ``~`` or ``}`` not preceded by a backslash; Moodle then
decodes HTML entities and turns ``\\}`` and ``\\#`` back into ``}`` and ``#``. So
:func:`escape_feedback` writes ``}`` and ``#`` with a backslash, and ``~``, ``\\``,
``"`` and ``/`` (and ``&``, so that the HTML survives the decoding) as entities.
"""

from __future__ import annotations

from derive.exercises.worksheet import Blank, Exercise, by_stage, context, givens_html, true_minus
from derive.formats import escape
from derive.formats.render import escape_xml, render
from derive.grading.rounding import plain

#: what Moodle's cloze parser treats specially inside a feedback, and how it is written instead
_FEEDBACK = str.maketrans({"&": "&amp;", "\\": "&#92;", "~": "&#126;", '"': "&quot;", "/": "&#47;",
                           "}": "\\}", "#": "\\#"})


def _cdata(text: str) -> str:
    """Text safe inside a CDATA section."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def escape_feedback(html: str) -> str:
    """HTML as a cloze answer's feedback: Moodle's parser and entity decoding give back ``html``."""
    return html.translate(_FEEDBACK)


def _math(latex: str) -> str:
    return r"\(" + escape_xml(latex) + r"\)"


def step_html(blank: Blank) -> str:
    """The blank's worked step, with the rounded numbers put in, as MathJax."""
    return _math(" ".join(f"{lhs} {rel} {rhs}" for lhs, rel, rhs in blank.step))


def short_step_html(blank: Blank) -> str:
    """The blank's step with the numbers put in and its value (the formula itself left out), as MathJax."""
    rows = blank.step[1:] if len(blank.step) > 2 else blank.step
    return _math(blank.latex + " " + " ".join(f"{rel} {rhs}" for _, rel, rhs in rows))


def right_feedback(blank: Blank, accepted) -> str:
    """Why an accepted value is right."""
    if len(blank.accepted) == 1:
        return "Right."
    return escape_xml(f"Right: {accepted.reason()}.")


def wrong_feedback(blank: Blank, d) -> str:
    """The named mistake a value comes from, where it enters, and the right step."""
    where = "" if d.here or d.entry == blank.typed else f" The mistake is made at an earlier step, {d.entry}:"
    return (f"<b>{escape_xml(true_minus(d.title[0].upper() + d.title[1:]))}.</b>{escape_xml(where)} "
            f"{escape_xml(true_minus(d.sentence))} The right step: {short_step_html(blank)}")


def cloze(blank: Blank) -> str:
    """A Moodle embedded NUMERICAL answer: every accepted value, then the named mistakes' values at 0 %.

    The tolerance is half a unit of the last decimal the sheet asks for, so an answer
    written to that many decimals is right exactly when it is one of the accepted values.
    """
    tol = blank.tolerance
    parts = [("=" if k == 0 else "%100%") + f"{a.text}:{tol}#" + escape_feedback(right_feedback(blank, a))
             for k, a in enumerate(blank.accepted)]
    for d in blank.distractors:
        parts.append(f"%0%{plain(d.value)}:{tol}#" + escape_feedback(wrong_feedback(blank, d)))
    return "{" + f"{blank.marks}:NUMERICAL:" + "~".join(parts) + "}"


def moodle_question(ex: Exercise, sheet: dict | None = None) -> dict:
    """One cloze question for one version: the given numbers, then a numbered field per blank."""

    sheet = sheet or context(ex, False)
    # every piece of text but the answer fields is made cloze-safe: a brace in a title, a file name or a
    # formula must not open a field of its own
    parts = [escape.cloze(givens_html(ex, sheet, _math))]
    number = 0
    for title, group in by_stage(ex):
        marks = sum(b.marks for b in group)
        parts.append(f"<h4>{escape.cloze(escape_xml(title))} ({marks} mark{'s' if marks != 1 else ''})</h4><p>")
        for b in group:
            number += 1
            parts.append(f"{number}. {escape.cloze(_math(b.latex + ' ='))} {cloze(b)}<br>")
        parts.append("</p>")
    feedback = "<p>Worked steps:</p>" + "".join(f"<p>{step_html(b)}</p>" for b in ex.blanks)
    return {"name": f"{ex.title} (version {ex.ident})", "ident": ex.ident, "marks": ex.marks,
            "html": _cdata("\n".join(parts)), "feedback": _cdata(feedback)}


def moodle_xml(exercises: list, category: str, sheets: dict | None = None) -> str:
    """A Moodle XML quiz: one cloze question per version (``sheets``: the versions' sheet contexts, if built)."""

    questions = [moodle_question(ex, (sheets or {}).get(ex.ident)) for ex in exercises]
    return render("md/moodle.xml.j2", questions=questions, category=category)
