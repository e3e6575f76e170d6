"""Moodle quizzes: a worksheet's versions as cloze questions in Moodle XML, one field per blank."""

from __future__ import annotations

from derive.exercises.worksheet import Blank, Exercise, by_stage, context, givens_html
from derive.formats.render import escape_xml, render


def _cdata(text: str) -> str:
    """Text safe inside a CDATA section."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def cloze(blank: Blank) -> str:
    """A Moodle embedded NUMERICAL answer: every accepted value, each within the tolerance.

    The tolerance is half a unit of the last decimal the sheet asks for, so an answer
    written to that many decimals is right exactly when it is one of the accepted values.
    """
    first, *others = blank.accepted
    answers = f"={first}:{blank.tolerance}" + "".join(f"~%100%{a}:{blank.tolerance}" for a in others)
    return "{1:NUMERICAL:" + answers + "}"


def moodle_question(ex: Exercise, sheet: dict | None = None) -> dict:
    """One cloze question for one version: the given numbers, then a field per blank."""

    math = lambda latex: r"\(" + escape_xml(latex) + r"\)"
    parts = [givens_html(ex, sheet or context(ex, False), math)]
    for title, group in by_stage(ex):
        parts.append(f"<h4>{escape_xml(title)}</h4><p>")
        parts += [f"{math(b.latex + ' =')} {cloze(b)}<br>" for b in group]
        parts.append("</p>")
    feedback = "<p>Worked steps:</p>" + "".join(
        "<p>" + math(" ".join(f"{lhs} {rel} {rhs}" for lhs, rel, rhs in b.step)) + "</p>" for b in ex.blanks)
    return {"name": f"{ex.title} (version {ex.ident})", "ident": ex.ident,
            "html": _cdata("\n".join(parts)), "feedback": _cdata(feedback)}


def moodle_xml(exercises: list, category: str, sheets: dict | None = None) -> str:
    """A Moodle XML quiz: one cloze question per version (``sheets``: the versions' sheet contexts, if built)."""

    questions = [moodle_question(ex, (sheets or {}).get(ex.ident)) for ex in exercises]
    return render("md/moodle.xml.j2", questions=questions, category=category)
