"""Worksheets whose blanks are formulas: "write dE/dw5 as a product of factors", with the key showing the formula.

The sheet gives the network's names and definitions (no numbers are needed); the key
gives each formula as the chain rule builds it, factor by factor, and in the plain
text that ``derive check`` reads (:mod:`derive.grading.formulas`), so that a student's
written answers can be checked. An answers template lists every blank.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.core import functions as fn
from derive.documents.diagram import build as diagram
from derive.documents.printing import latex
from derive.documents.scalar import Writer
from derive.documents.symbolic import SymbolicWriter
from derive.errors import DeriveError
from derive.exercises.worksheet import choose
from derive.formats.latex import compile_pdf
from derive.formats.pictures import diagram_svg
from derive.formats.render import render
from derive.grading.formulas import KINDS, Formulas

FORMATS = ("pdf", "tex", "md")

#: what a blank asks for, by the kind of quantity
PROMPTS = {
    "net": "the net input: its definition",
    "out": "the output: its definition",
    "error": "the output's error term",
    "sample_loss": "the loss of the sample",
    "loss": "the loss",
    "dE_dout": "how the loss changes with this output",
    "dout_dnet": "the derivative of the activation, in the unit's output",
    "delta": "the unit's delta, in the network's symbols",
    "gradient": "the gradient, as the product of the chain rule's factors, in the network's symbols",
}


@dataclass(frozen=True)
class FormulaBlank:
    """One formula the student writes: its name, symbol, what is asked, and the key's rows and plain text."""

    name: str
    latex: str
    prompt: str
    rows: tuple  # the key: (lhs, relation, rhs) rows, the last one the formula
    text: str  # the formula in the plain text derive check reads


@dataclass(frozen=True)
class FormulaSheet:
    solution: object
    blanks: tuple

    @property
    def title(self) -> str:
        return self.solution.spec.title


def exercise(solution, blanks: str = "backward") -> FormulaSheet:
    """The formula blanks of a network: levels, stages or names as for a numeric worksheet (formulas only)."""
    formulas = Formulas(solution)
    chosen = [step for step in choose(formulas.steps, blanks) if step.kind in KINDS]
    if not chosen:
        raise DeriveError("--blanks", f"no formula among the blanks chosen; formulas are asked for {', '.join(KINDS)}")
    writer = SymbolicWriter(solution)
    made = []
    for step in chosen:
        expected = formulas.expected(step.name)
        rows = ((step.latex, "=", latex(expected, formulas.graph.latex)),)
        if step.kind == "gradient":
            rows = writer.gradient_chain(step.key[1], step.key[2], step.key[3], step.key[4]).rows
        made.append(FormulaBlank(step.name, step.latex, PROMPTS[step.kind], tuple(rows), formulas.text(expected)))
    return FormulaSheet(solution, tuple(made))


def context(sheet: FormulaSheet, key: bool) -> dict:
    """What the formula worksheet templates need: the blanks, the network's definitions, the diagram."""
    solution = sheet.solution
    spec, w = solution.spec, Writer(solution)
    n, g = w.n, w.g
    definitions = []
    same = len(set(spec.activations)) == 1
    for l in range(1, spec.layers + 1):
        if same and l > 1:
            break
        act = fn.ACTIVATIONS[spec.activations[l - 1]]
        net = r"\mathrm{net}" if n.units else f"z^{{[{l}]}}"
        definitions.append(w._activation_formula(act, net, l))
    definitions.append(w._loss_formula())
    example = g.net(1, 0, 0)
    example_text = " + ".join([f"{n.weight(1, 0, i).text}*{n.input(0, i).text}" for i in range(spec.sizes[0])]
                              + [n.bias(1, 0).text])
    return {
        "sheet": sheet, "key": key, "definitions": definitions,
        "diagram": diagram(solution, "names"),
        "example": (g.latex[example], example_text),
        "names": ", ".join(sorted({name for name in Formulas(solution).symbols}, key=_order)),
    }


def _order(name: str):
    return (len(name), name)


def answers_template(sheet: FormulaSheet) -> str:
    """An answers file to fill in: one quoted name per blank, its formula to write between the quotes."""
    lines = ["# Write each formula between the quotes, in the names of the sheet (for example",
             "# \"net_h1\" = \"w1*i1 + w2*i2 + b_h1\"), then check the file.", ""]
    lines += [f'"{b.name}" = ""' for b in sheet.blanks]
    return "\n".join(lines) + "\n"


def files(sheet: FormulaSheet, formats) -> dict:
    """The sheet and key (PDF, TeX, Markdown), the diagram for the Markdown, and the answers template."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise DeriveError("--format", f"a formula worksheet is written as {', '.join(FORMATS)}, not {unknown[0]}")
    out = {"answers-template.toml": answers_template(sheet)}
    for key in (False, True):
        stem = "formula-key" if key else "formula-sheet"
        c = context(sheet, key)
        if "md" in formats:
            out[f"{stem}.md"] = render("md/formula-worksheet.md.j2", **c)
            out["network.svg"] = diagram_svg(c["diagram"])
        if {"tex", "pdf"} & set(formats):
            tex = render("tex/formula-worksheet.tex.j2", **c)
            if "tex" in formats:
                out[f"{stem}.tex"] = tex
            if "pdf" in formats:
                out[f"{stem}.pdf"] = compile_pdf(tex, f"{stem}.tex", quick=True)[0]
    return out
