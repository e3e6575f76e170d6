"""Worksheets whose blanks are formulas: "write dE/dw5 as a product of factors", with the key showing the formula.

The sheet gives the network's names and definitions (no numbers are needed); the key
gives each formula as the chain rule builds it, factor by factor, and in the plain
text that ``derive check`` reads (:mod:`derive.grading.formulas`), so that a student's
written answers can be checked. An answers template lists every blank.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from derive.core import functions as fn
from derive.documents import network
from derive.documents.context import Context
from derive.documents.diagram import build as diagram
from derive.documents.metadata import Metadata, document_metadata
from derive.documents.options import Options
from derive.documents.printing import latex
from derive.documents.symbolic import SymbolicWriter
from derive.errors import DeriveError
from derive.exercises.worksheet import choose
from derive.formats.latex import compile_pdf
from derive.formats.pictures import diagram_svg
from derive.formats.render import render
from derive.grading.formulas import KINDS, Formulas

#: the formats of derive.exercises.batch.WORKSHEETS a formula worksheet is written in, and those made by default
FORMATS = ("pdf", "tex", "md")
DEFAULTS = ("pdf", "md")
#: what a formula worksheet asks for when --blanks is not given
BLANKS = "backward"

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
    #: the course, lecturer, date and institution on the sheet's and key's title and running head
    meta: Metadata = Metadata()

    @property
    def title(self) -> str:
        return self.solution.spec.title


def exercise(solution, options: Options = Options(blanks=BLANKS, symbolic="general")) -> FormulaSheet:
    """The formula blanks of a network (the options' ``blanks``: levels, stages or names as for a numeric worksheet;
    formulas only)."""
    formulas = Formulas(solution)
    chosen = [step for step in choose(formulas.steps, options.blanks) if step.kind in KINDS]
    if not chosen:
        raise DeriveError("--blanks", f"no formula among the blanks chosen; formulas are asked for {', '.join(KINDS)}")
    # the key's formulas alone, whatever the options ask of a document
    writer = SymbolicWriter(Context(solution, replace(options, symbolic="general")))
    made = []
    for step in chosen:
        expected = formulas.expected(step.name)
        rows = ((step.latex, "=", latex(expected, formulas.graph.latex)),)
        if step.kind == "gradient":
            rows = writer.gradient_chain(step.key[1], step.key[2], step.key[3], step.key[4]).rows
        made.append(FormulaBlank(step.name, step.latex, PROMPTS[step.kind], tuple(rows), formulas.text(expected)))
    return FormulaSheet(solution, tuple(made), document_metadata(solution.spec, options.metadata))


def context(sheet: FormulaSheet, key: bool) -> dict:
    """What the formula worksheet templates need: the blanks, the network's definitions, the diagram."""
    solution = sheet.solution
    ctx = Context(solution)
    spec, n, g = solution.spec, ctx.n, ctx.g
    definitions = []
    same = len(set(spec.activations)) == 1
    for l in range(1, spec.layers + 1):
        if same and l > 1:
            break
        act = fn.ACTIVATIONS[spec.activations[l - 1]]
        net = r"\mathrm{net}" if n.units else f"z^{{[{l}]}}"
        definitions.append(network.activation_formula(act, net, l))
    definitions.append(network.loss_formula(ctx))
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


class FormulaBatch:
    """A formula worksheet's job (see derive.exercises.batch.WORKSHEETS): the sheet and its key (PDF, TeX, Markdown),
    each context and LaTeX made once, and with every format the answers template."""

    def __init__(self, sheet: FormulaSheet):
        self.sheet = sheet

    @cached_property
    def contexts(self) -> dict:
        return {("formula-key" if key else "formula-sheet"): context(self.sheet, key) for key in (False, True)}

    @cached_property
    def tex(self) -> dict:
        return {stem: render("tex/formula-worksheet.tex.j2", **c) for stem, c in self.contexts.items()}

    def template(self) -> dict:
        return {"answers-template.toml": answers_template(self.sheet)}

    def pdf(self) -> dict:
        return {**self.template(), **{f"{stem}.pdf": compile_pdf(tex, f"{stem}.tex", quick=True)[0]
                                      for stem, tex in self.tex.items()}}

    def tex_files(self) -> dict:
        return {**self.template(), **{f"{stem}.tex": tex for stem, tex in self.tex.items()}}

    def markdown(self) -> dict:
        out = {f"{stem}.md": render("md/formula-worksheet.md.j2", **c) for stem, c in self.contexts.items()}
        out["network.svg"] = diagram_svg(self.contexts["formula-sheet"]["diagram"])
        return {**self.template(), **out}

    def _not_written(self, name: str):
        raise DeriveError("--format", f"a formula worksheet is written as {', '.join(FORMATS)}, not {name}")

    def moodle(self):
        self._not_written("moodle")

    def qti(self):
        self._not_written("qti")

    def json(self):
        self._not_written("json")
