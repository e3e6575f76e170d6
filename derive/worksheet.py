"""Worksheets and answer keys: the same exercise rendered for the student (blanks) and the teacher (filled).

An exercise is a network version plus the blanks chosen (R/exams' idea: data, solution,
template; the key is the same exercise for another audience). The key is computed
the way the sheet tells the student to work -- every result rounded to ``places``
decimals and reused -- by the check engine's rounded calculation
(:func:`derive.rounding.answer_key`), so a careful student's numbers match it.
"""

from __future__ import annotations

from dataclasses import dataclass

from decimal import Decimal
from fractions import Fraction

import sympy as sp

from .errors import DeriveError, suggestion
from .printing import latex, shown, with_numbers

#: blanks by level: which kinds of steps the student fills in
LEVELS = {
    "forward": ("net", "out", "error", "sample_loss", "loss"),
    "output": ("net", "out", "error", "sample_loss", "loss", "dE_dout@L", "dout_dnet@L", "jacobian@L", "delta@L",
               "gradient@L", "updated@L"),
    "full": ("net", "out", "error", "sample_loss", "loss", "dE_dout", "dout_dnet", "jacobian", "delta", "gradient",
             "updated"),
}
STAGES = {
    "forward": ("net", "out"),
    "loss": ("error", "sample_loss", "loss"),
    "backward": ("dE_dout", "dout_dnet", "jacobian", "delta", "gradient"),
    "update": ("updated",),
}
STAGE_TITLES = (("forward", "Forward pass"), ("loss", "Loss"), ("backward", "Backward pass"), ("update", "Update"))


@dataclass(frozen=True)
class Blank:
    """One answer the student writes: its name, symbol, stage, and the key's value and worked step."""

    name: str
    latex: str
    stage: str
    key: str  # the key's value as written to the sheet's decimals
    step: tuple  # the worked step: rows (lhs, relation, rhs) with the rounded numbers put in
    exact: str  # the exact value, for the teacher
    tolerance: str  # half a unit of the last decimal
    accepted: tuple  # what a quiz accepts (each within the tolerance): the key's value, and the exact value rounded


@dataclass(frozen=True)
class Exercise:
    """A worksheet version: the solution it is about, its blanks, and how answers are written."""

    ident: str
    solution: object
    blanks: tuple
    places: int
    formulas: bool

    @property
    def title(self) -> str:
        """The network's title without the version (the sheet prints the version itself)."""
        title = self.solution.spec.title
        suffix = f" (version {self.ident})"
        return title[: -len(suffix)] if title.endswith(suffix) else title


def stage_of(kind: str) -> str:
    return next(stage for stage, kinds in STAGES.items() if kind in kinds)


def choose(steps, blanks: str) -> list:
    """The steps the student fills in: levels, stages and names, comma-separated."""
    L = steps.spec.layers
    chosen, names = [], {s.name: s for s in steps}
    for word in (w.strip() for w in blanks.split(",") if w.strip()):
        if word in LEVELS or word in STAGES:
            kinds = LEVELS[word] if word in LEVELS else STAGES[word]
            for step in steps:
                for kind in kinds:
                    base, _, layer = kind.partition("@")
                    if step.kind != base or step.given:
                        continue
                    if layer and _layer(step) != L:
                        continue
                    if step not in chosen:
                        chosen.append(step)
        elif word in names:
            if names[word] not in chosen:
                chosen.append(names[word])
        else:
            known = list(LEVELS) + list(STAGES)
            raise DeriveError("--blanks", f"unknown level, stage or quantity '{word}'"
                              f"{suggestion(word, known + list(names))}; levels: {', '.join(known)}")
    given = [s.name for s in chosen if s.given]
    if given:
        raise DeriveError("--blanks", f"{given[0]} is given on the sheet, not an answer")
    if not chosen:
        raise DeriveError("--blanks", "no blank chosen")
    order = {s.name: k for k, s in enumerate(steps)}
    return sorted(chosen, key=lambda s: order[s.name])


def _layer(step) -> int | None:
    """The layer of a step's key (gradients and updates: the parameter's layer)."""
    key = step.key
    if key[0] in ("net", "out", "dE_dout", "dout_dnet", "jacobian", "delta"):
        return key[1]
    if key[0] in ("gradient", "updated"):
        return key[2]
    return None


def exercise(solution, blanks: str, places: int, formulas: bool, ident: str) -> Exercise:
    """The exercise of one version: its blanks with the key of a calculation rounding to ``places``."""
    from .numeric import round_decimal
    from .rounding import answer_key, plain
    from .steps import Steps

    steps = Steps(solution)
    steps.verify()
    chosen = choose(steps, blanks)
    key = answer_key(steps, places)
    world = steps.world(places=places)
    made = []
    for step in chosen:
        rounded, exact = key[step.name]
        values = {steps[p].symbol: world.used(p) for p in steps.parents(step.formula)}
        general = latex(step.formula, steps.latex)
        filled = with_numbers(step.formula, steps.latex, values, 12)
        rows = [(step.latex, "=", general)]
        if filled != general:
            rows.append(("", "=", filled))
        raw = world.evaluate(world.formula(step))  # before this step's own rounding
        rows.append(("", "=" if Fraction(rounded) == raw else r"\approx", plain(rounded)))
        accepted = tuple(dict.fromkeys((plain(rounded), plain(round_decimal(exact, places)))))
        made.append(Blank(step.name, step.latex, stage_of(step.kind), plain(rounded), tuple(rows),
                          shown(exact, 9).text, plain(Decimal(5).scaleb(-(places + 1))), accepted))
    return Exercise(ident, solution, tuple(made), places, formulas)


def by_stage(ex: Exercise) -> list[tuple[str, list]]:
    """The blanks grouped by stage, in the order of the calculation."""
    return [(title, [b for b in ex.blanks if b.stage == stage]) for stage, title in STAGE_TITLES
            if any(b.stage == stage for b in ex.blanks)]


def pairs(blanks: list) -> list[tuple]:
    """Blanks two to a row, so that a sheet stays short."""
    return [tuple(blanks[k:k + 2]) for k in range(0, len(blanks), 2)]


def context(ex: Exercise, key: bool) -> dict:
    """What the worksheet templates need: the exercise, the given numbers, the diagram and the formulas."""
    from .diagram import build as diagram
    from .worked import Writer

    w = Writer(ex.solution, digits=6)
    spec = ex.solution.spec
    formulas = []
    if ex.formulas:
        from . import functions as fn

        for name in dict.fromkeys(spec.activations):
            act = fn.ACTIVATIONS[name]
            net = r"\mathrm{net}" if w.n.units else "z"
            derivative = act.identity.xreplace({fn.a: sp.Symbol("out"), fn.z: sp.Symbol(net)})
            formulas.append(w._activation_formula(act, net) + rf", \quad {act.derivative_latex.format(net)} = "
                            + latex(derivative, {}).replace("out", r"\mathrm{out}"))
        formulas.append(w._loss_formula())
        formulas.append(r"\delta = \frac{\partial E}{\partial \mathrm{out}} \cdot \frac{\partial \mathrm{out}}{\partial \mathrm{net}}, \quad \frac{\partial E}{\partial w} = \delta \cdot (\text{the input } w \text{ multiplies})")
        formulas.append(r"\frac{\partial E}{\partial \mathrm{out}_{h}} = \sum_{k} \delta_{k} \, w_{k h}, \qquad w^{+} = w - \eta \, \frac{\partial E}{\partial w}")
    return {
        "ex": ex, "key": key, "stages": by_stage(ex), "pairs": pairs,
        "parameters": w.parameter_table(), "data": w.data_table(),
        "eta": w.num(spec.learning_rate), "update_biases": spec.update_biases,
        "diagram": diagram(ex.solution, "weights", digits=6), "formulas": formulas,
    }



# -- course platforms ----------------------------------------------------------------------------

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


def givens_html(ex: Exercise, sheet: dict, math) -> str:
    """The numbers a quiz question gives, as HTML: the network, learning rate, rounding rule and tables.

    One template for every course platform; ``math`` writes a piece of LaTeX the way the
    platform shows mathematics (Moodle: MathJax delimiters; Canvas: plain HTML).
    """
    from .render import render

    return render("md/givens.html.j2", ex=ex, spec=ex.solution.spec, eta=r"\eta = " + sheet["eta"],
                  tables=(sheet["parameters"], sheet["data"]), math=math).rstrip("\n")


def moodle_question(ex: Exercise, sheet: dict | None = None) -> dict:
    """One cloze question for one version: the given numbers, then a field per blank."""
    from .render import escape_xml

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
    from .render import render

    questions = [moodle_question(ex, (sheets or {}).get(ex.ident)) for ex in exercises]
    return render("md/moodle.xml.j2", questions=questions, category=category)


def to_json(exercises: list) -> str:
    """Every version's given numbers and key, for other tools."""
    import json

    from .export import dumps, in_layout
    from .numeric import to_float

    versions = []
    for ex in exercises:
        spec = ex.solution.spec
        params = {}
        for l in range(1, spec.layers + 1):
            params[f"W{l}"] = [[to_float(v) for v in row] for row in in_layout(spec.weights[l - 1], spec.weight_layout)]
            params[f"b{l}"] = [to_float(v) for v in spec.biases[l - 1]]
        versions.append({
            "version": ex.ident, "places": ex.places, "parameters": params,
            "inputs": [[to_float(v) for v in row] for row in spec.inputs],
            "targets": [[to_float(v) for v in row] for row in spec.targets],
            "key": {b.name: b.key for b in ex.blanks},
            "exact": {b.name: b.exact for b in ex.blanks},
        })
    json.dumps(versions)  # every value is plain data
    return dumps({"versions": versions}) + "\n"


# -- the files of a batch ------------------------------------------------------------------------

FORMATS = ("pdf", "tex", "md", "moodle", "qti", "json")


def exercises(spec, variants: int | None, seed: int, blanks: str, places: int, formulas: bool, progress=None):
    """The exercises of a run: the spec itself, or ``variants`` versions of it drawn from ``seed``."""
    from .solve import solve
    from .variants import versions

    specs = versions(spec, variants, seed, places) if variants else [spec]
    made = []
    for k, version in enumerate(specs, start=1):
        ident = version.name.split("@", 1)[1] if "@" in version.name else spec.name
        made.append(exercise(solve(version), blanks, places, formulas, ident))
        if progress:
            progress(k, len(specs), "preparing")
    return made


def files(exercises: list, formats, progress=None) -> dict:
    """Every file of a batch, rendered in memory; PDFs compiled in parallel on every core."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from .latex import compile_pdf
    from .qti import package
    from .render import render

    out = {}
    # each version's context is built once: its sheet, its key (the same context, filled in) and the quizzes share it
    sheets = {ex.ident: context(ex, False) for ex in exercises}
    both = {(ex.ident, key): {**sheets[ex.ident], "key": key} for ex in exercises for key in (False, True)}
    tex = {f"{'key' if key else 'sheet'}-{ident}": render("tex/worksheet.tex.j2", sheets=[c])
           for (ident, key), c in both.items()} if {"tex", "pdf"} & set(formats) else {}
    if "tex" in formats:
        out.update({f"{stem}.tex": text for stem, text in tex.items()})
    if "md" in formats:
        for ex in exercises:
            for key in (False, True):
                out[f"{'key' if key else 'sheet'}-{ex.ident}.md"] = render("md/worksheet.md.j2",
                                                                           sheets=[both[(ex.ident, key)]])
            out[f"network-{ex.ident}.svg"] = sheets[ex.ident]["diagram"].svg()
    if "moodle" in formats:
        out["moodle.xml"] = moodle_xml(exercises, exercises[0].title, sheets)
    if "qti" in formats:
        out["canvas-qti.zip"] = package(exercises, sheets)
    if "json" in formats:
        out["worksheets.json"] = to_json(exercises)
    if "pdf" in formats:
        done = []

        def build(stem):
            pdf = compile_pdf(tex[stem], f"{stem}.tex", quick=True)[0]
            done.append(stem)
            if progress:
                progress(len(done), len(tex), "typesetting")
            return stem, pdf

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            pdfs = dict(pool.map(build, sorted(tex)))
        out.update({f"{stem}.pdf": pdf for stem, pdf in pdfs.items()})
        if len(exercises) > 1:
            out["sheets.pdf"] = unite([pdfs[f"sheet-{ex.ident}"] for ex in exercises])
            out["keys.pdf"] = unite([pdfs[f"key-{ex.ident}"] for ex in exercises])
    return out


def unite(pdfs: list[bytes]) -> bytes:
    """One PDF of several, for printing (poppler's pdfunite)."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    if shutil.which("pdfunite") is None:
        raise DeriveError("pdf", "pdfunite is needed to combine the PDFs: apt-get install poppler-utils")
    with tempfile.TemporaryDirectory(prefix="derive-unite-") as folder:
        names = []
        for k, pdf in enumerate(pdfs):
            name = Path(folder) / f"{k:05d}.pdf"
            name.write_bytes(pdf)
            names.append(str(name))
        target = Path(folder) / "all.pdf"
        subprocess.run(["pdfunite", *names, str(target)], check=True, capture_output=True)
        return fixed_id(target.read_bytes())


def fixed_id(pdf: bytes) -> bytes:
    """The PDF with its random trailer /ID replaced by one made from its content (same input, same bytes).

    The trailer follows the cross-reference table, so changing its length moves no object.
    """
    import hashlib

    start = pdf.rfind(b"trailer")
    at = pdf.find(b"/ID", start)
    if start < 0 or at < 0:
        return pdf
    k = pdf.index(b"[", at) + 1
    for _ in range(2):  # two literal strings (...), with escapes and balanced parentheses
        while pdf[k:k + 1].isspace():
            k += 1
        if pdf[k:k + 1] != b"(":
            return pdf  # not the form pdfunite writes: leave it
        depth = 0
        while True:
            ch = pdf[k:k + 1]
            if ch == b"\\":
                k += 2
                continue
            depth += ch == b"("
            depth -= ch == b")"
            k += 1
            if depth == 0:
                break
    end = pdf.index(b"]", k) + 1
    digest = hashlib.md5(pdf[:start]).hexdigest().encode()
    return pdf[:at] + b"/ID [<" + digest + b"> <" + digest + b">]" + pdf[end:]
