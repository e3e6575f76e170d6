"""Worksheets of circuits: the students fill in the circuit, values above the wires and gradients below them.

A circuit exercise is a network exercise's twin (:class:`derive.exercises.worksheet.Exercise`
with its :class:`~derive.exercises.worksheet.Blank` s): the blanks are boxes on the wires of the
diagram, the key is the same sheet with the boxes filled in and the worked step of each, and
the quizzes ask for the same numbers. The key is the calculation the sheet asks for: every
result (a value, a local gradient, a gradient) rounded to the sheet's decimals and reused
(:func:`derive.core.circuit_sweep.sweep`), so a careful student's numbers match it.
"""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal
from functools import cached_property

from derive.core import circuit as engine
from derive.core.circuit_sweep import BRANCH, GRADIENT, VALUE, exact_values, quantities, sweep
from derive.core.circuit_versions import versions
from derive.core.numeric import round_decimal, to_float
from derive.documents import circuit_diagram, circuit_steps
from derive.documents.circuit_document import _Printer, display_expression, node_latex
from derive.documents.model import Chain
from derive.documents.metadata import document_metadata
from derive.documents.options import Options
from derive.documents.printing import shown
from derive.errors import DeriveError, suggestion
from derive.exercises.batch import typeset
from derive.exercises.moodle import _cdata, cloze
from derive.exercises.qti import Item, Quiz, _safe, answers, bundle, inline
from derive.exercises.worksheet import STAGE_TITLES, Blank, Exercise, by_stage
from derive.formats.pictures import circuit_svg
from derive.formats.plainmath import html_math
from derive.formats.render import escape_xml, render
from derive.grading.rounding import Accepted, plain
from derive.io.export import dumps

#: blanks by level: which quantities the students fill in
LEVELS = {"forward": (VALUE,), "backward": (GRADIENT, BRANCH), "full": (VALUE, GRADIENT, BRANCH)}
#: the worksheet's diagram: more room between gates and boxes large enough to write in by hand (cm)
SPACING = (3.6, 3.0)
BLANK = (1.8, 0.6)
PORTRAIT, LANDSCAPE = 17.0, 25.7  # text widths of an A4 page, cm


def choose(circuit, blanks: str) -> list:
    """The quantities the students fill in: levels (forward, backward, full) and names, comma-separated."""
    every = [q for q in quantities(circuit)]
    by_name = {q.name: q for q in every}
    chosen = []
    for word in (w.strip() for w in blanks.split(",") if w.strip()):
        if word in LEVELS:
            chosen += [q for q in every if q.kind in LEVELS[word] and not q.given and q not in chosen]
        elif word in by_name:
            if by_name[word].given:
                raise DeriveError("--blanks", f"{word} is given on the sheet, not an answer")
            if by_name[word] not in chosen:
                chosen.append(by_name[word])
        else:
            raise DeriveError("--blanks", f"unknown level or quantity '{word}'"
                              f"{suggestion(word, list(LEVELS) + list(by_name))}; levels: {', '.join(LEVELS)}; "
                              f"quantities: {', '.join(q.name for q in every if not q.given)}")
    if not chosen:
        raise DeriveError("--blanks", "no blank chosen")
    order = {q.name: k for k, q in enumerate(every)}
    return sorted(chosen, key=lambda q: order[q.name])


def box_key(q) -> str:
    """The diagram's key of a quantity's box: ``q``, ``d:q`` or ``d:x>2:0`` (a branch)."""
    if q.kind == VALUE:
        return q.wire
    return f"d:{q.wire}>{q.gate}:{q.slot}" if q.kind == BRANCH else f"d:{q.wire}"


def quantity_latex(circuit, q) -> str:
    p = _Printer(circuit, 9)
    if q.kind == VALUE:
        return p.wire(q.wire)
    name = p.d(circuit.output, q.wire)
    return name + rf"\big|_{{\text{{gate {q.gate}}}}}" if q.kind == BRANCH else name


def answer_text(rounded: Decimal, exact) -> str:
    """The key's number: a value that works out exactly as it is (-12, 0.5), else to the sheet's decimals."""
    if rounded == exact:
        return shown(exact, 30).text
    return plain(rounded)


def exercise(circuit, options: Options, ident: str) -> Exercise:
    """The exercise of one version: the options' ``blanks``, with the key of a calculation rounding to ``places``
    decimals."""
    blanks, places = options.blanks, options.places
    chosen = choose(circuit, blanks)
    world = sweep(circuit, places)
    exact = exact_values(circuit)
    made = []
    for q in chosen:
        rounded = round_decimal(world.computed[q.name], places)
        text = answer_text(rounded, exact[q.name])
        step = circuit_steps.rows(world.circuit, q, 15, world.raw[q.name], world.local_raw.get((q.gate, q.slot)),
                                  final=text)
        found: dict = {}  # the key's value (every step rounded) and the exact value rounded, with why each is right
        for value, rounding in ((rounded, places), (round_decimal(exact[q.name], places), None)):
            found.setdefault(value, []).append(rounding)
        accepted = tuple(Accepted(value, tuple(roundings)) for value, roundings in found.items())
        made.append(Blank(q.name, quantity_latex(circuit, q), q.stage, text, tuple(step), shown(exact[q.name], 9).text,
                          plain(Decimal(5).scaleb(-(places + 1))), accepted))
    return Exercise(ident, circuit, tuple(made), places, False, document_metadata(circuit.spec, options.metadata))


def exercises(spec, options: Options, variants: int | None = None, seed: int = 1, progress=None) -> list:
    """The exercises of a run: the formula spec itself, or ``variants`` versions of it drawn from ``seed``; the
    options' ``blanks`` and ``places`` say what the students fill in and to how many decimals."""
    specs = versions(spec, variants, seed, options.places) if variants else [spec]
    made = []
    for k, version in enumerate(specs, start=1):
        ident = version.name.split("@", 1)[1] if "@" in version.name else spec.name
        made.append(exercise(engine.solve(version), options, ident))
        if progress:
            progress(k, len(specs), "preparing")
    return made


def diagram(ex: Exercise, key: bool):
    """The sheet's circuit: the given numbers on the wires, a box for every blank (filled in on the key)."""
    circuit = ex.solution
    quantity = {q.name: q for q in quantities(circuit)}
    blanks = {box_key(quantity[b.name]) for b in ex.blanks}
    filled = {box_key(quantity[b.name]): b.key for b in ex.blanks} if key else {}
    asked = {b.name for b in ex.blanks}
    values = [w for w in circuit.wires if w not in asked]
    shown_gradients = set()
    for wire, parts in circuit.contributions.items():
        for c in parts:
            if not ({circuit.gradient_name(wire), f"{circuit.gradient_name(wire)}|gate{c.gate}"} & asked
                    or any(n.startswith(f"{circuit.gradient_name(wire)}|gate{c.gate}:") for n in asked)):
                shown_gradients.add(f"{wire}>{c.gate}:{c.slot}")
    shown_gradients.add(f"{circuit.output}>")
    return circuit_diagram.build(circuit, 6, values=values, gradients=shown_gradients, blanks=blanks,
                                 filled=filled, spacing=SPACING, blank_size=BLANK,
                                 caption="Values above the wires, gradients of "
                                 f"{circuit.output} below them")


def context(ex: Exercise, key: bool) -> dict:
    """What the circuit worksheet templates need: the exercise, the formula, the numbers, the circuit."""
    circuit = ex.solution
    spec = circuit.spec
    p = _Printer(circuit, 15)
    names = {w: p.wire(w) for w in circuit.wires}
    formula = Chain(tuple((p.wire(name), "=", node_latex(node, names)) for name, _, node in spec.formulas))
    numbers = [f"{p.wire(w)} = {p.num(circuit.values[w])}" for w in circuit.inputs]
    gates = [(g.index, f"{p.wire(g.output)} = {p.general(display_expression(g, *[circuit.symbols[w] for w in g.inputs]))}")
             for g in circuit.gates]
    figure = diagram(ex, key)
    width = figure.width + 2.0
    landscape = width > PORTRAIT
    room = LANDSCAPE if landscape else PORTRAIT
    return {"ex": ex, "key": key, "stages": by_stage(ex), "formula": formula, "numbers": numbers, "gates": gates,
            "diagram": figure, "landscape": landscape, "scale": min(1.0, room / width),
            "task": task(ex), "rounding": rounding(ex)}


def task(ex: Exercise) -> list[str]:
    """What the sheet asks, in sentences: which numbers go above the wires, which below, and where a wire fans out."""
    circuit = ex.solution
    stages = {b.stage for b in ex.blanks}
    out = circuit.output
    parts = []
    if "forward" in stages:
        parts.append("above each wire the value it carries (the forward pass)")
    if "backward" in stages:
        parts.append(f"below each wire the gradient of {out} with respect to it (the backward pass, from "
                     f"d{out}/d{out} = 1 at the output)")
    said = [f"Fill in the boxes of the circuit at the numbers given: {' and '.join(parts)}."]
    if "backward" in stages and any(b.name.count("|gate") for b in ex.blanks):
        said.append("Where a wire goes into several gates, write the gradient coming back along each branch "
                    "below that branch, and their sum in the box marked Σ.")
    return said


def rounding(ex: Exercise) -> str:
    """How the answers are written: exactly, when every one works out so; else to the sheet's decimals."""
    if all(b.key == b.exact for b in ex.blanks):
        return "Every answer works out exactly."
    return (f"Give every answer to {ex.places} decimal places (a whole number as it is), rounding half away from "
            "zero, and use your rounded answers in the later steps.")


# ---------------------------------------------------------------- quizzes

def _givens(ex: Exercise, sheet: dict, math, picture: str = "") -> str:
    return render("md/circuit-givens.html.j2", ex=ex, sheet=sheet, math=math, picture=picture).rstrip("\n")


def moodle_question(ex: Exercise, sheet: dict) -> dict:
    """One cloze question for one version: the formula, the numbers and the circuit, then a field per blank."""
    math = lambda latex: r"\(" + escape_xml(latex) + r"\)"
    svg = f"circuit-{_safe(ex.ident)}.svg"
    parts = [_givens(ex, sheet, math, f"@@PLUGINFILE@@/{svg}")]
    for title, group in by_stage(ex):
        parts.append(f"<h4>{escape_xml(title)}</h4><p>")
        parts += [f"{math(b.latex + ' =')} {cloze(b)}<br>" for b in group]
        parts.append("</p>")
    feedback = "<p>Worked steps:</p>" + "".join(
        "<p>" + math(" ".join(f"{lhs} {rel} {rhs}" for lhs, rel, rhs in b.step)) + "</p>" for b in ex.blanks)
    picture = base64.b64encode(circuit_svg(sheet["diagram"]).encode("utf-8")).decode("ascii")
    return {"name": f"{ex.title} (version {ex.ident})", "ident": ex.ident, "html": _cdata("\n".join(parts)),
            "feedback": _cdata(feedback), "files": [{"name": svg, "data": picture}]}


def moodle_xml(exercises: list, sheets: dict) -> str:
    """A Moodle XML quiz: one cloze question per version, its circuit embedded as a picture."""
    questions = [moodle_question(ex, sheets[ex.ident]) for ex in exercises]
    return render("md/moodle.xml.j2", questions=questions, category=exercises[0].title)


def quiz(ex: Exercise, sheet: dict) -> Quiz:
    """One version as a Canvas quiz: a numerical question per blank, in the sheet's order."""
    givens = _givens(ex, sheet, inline)
    title = f"{ex.title} (version {ex.ident})"
    content = repr((title, ex.places, givens, [(b.name, b.values) for b in ex.blanks]))
    ident = f"derive_{_safe(ex.ident)}_{hashlib.sha256(content.encode()).hexdigest()[:12]}"
    titles = dict(STAGE_TITLES)
    in_order = [b for _, group in by_stage(ex) for b in group]
    items = []
    for k, b in enumerate(in_order, start=1):
        html = render("md/qti-question.html.j2", stage=titles[b.stage], number=k, count=len(in_order),
                      name=html_math(b.latex), givens=givens).rstrip("\n")
        items.append(Item(f"{ident}_q{k:03d}", b.name, html, answers(b),
                          html_math(" ".join(f"{lhs} {rel} {rhs}" for lhs, rel, rhs in b.step))))
    return Quiz(ident, title, f"quiz-{_safe(ex.ident)}.xml", tuple(items))


# ---------------------------------------------------------------- the files of a batch

class CircuitBatch:
    """A circuit worksheet batch's job (see derive.exercises.batch.WORKSHEETS): each version's sheet and key, their
    TeX, made once."""

    def __init__(self, exercises: list, progress=None):
        self.exercises, self.progress = exercises, progress

    @cached_property
    def sheets(self) -> dict:
        return {ex.ident: context(ex, False) for ex in self.exercises}

    @cached_property
    def both(self) -> dict:
        keys = {ex.ident: context(ex, True) for ex in self.exercises}
        return {(ex.ident, key): (keys if key else self.sheets)[ex.ident] for ex in self.exercises for key in (False, True)}

    @cached_property
    def tex(self) -> dict:
        """The LaTeX of every sheet and key, by file stem."""
        return {f"{'key' if key else 'sheet'}-{ident}": render("tex/circuit-worksheet.tex.j2", sheet=c)
                for (ident, key), c in self.both.items()}

    def tex_files(self) -> dict:
        return {f"{stem}.tex": text for stem, text in self.tex.items()}

    def markdown(self) -> dict:
        out = {}
        for (ident, key), c in self.both.items():
            stem = f"{'key' if key else 'sheet'}-{ident}"
            out[f"{stem}.md"] = render("md/circuit-worksheet.md.j2", sheet=c, picture=f"{stem}.svg")
            out[f"{stem}.svg"] = circuit_svg(c["diagram"])
        return out

    def moodle(self) -> str:
        return moodle_xml(self.exercises, self.sheets)

    def qti(self) -> bytes:
        return bundle([quiz(ex, self.sheets[ex.ident]) for ex in self.exercises], self.exercises[0].title)

    def json(self) -> str:
        return to_json(self.exercises)

    def pdf(self) -> dict:
        return typeset(self.tex, [ex.ident for ex in self.exercises], self.progress)


def to_json(exercises: list) -> str:
    """Every version's given numbers and key, for other tools."""
    versions_ = []
    for ex in exercises:
        circuit = ex.solution
        versions_.append({
            "version": ex.ident, "places": ex.places,
            "formula": {name: text for name, text, _ in circuit.spec.formulas},
            "values": {w: to_float(circuit.values[w]) for w in circuit.inputs},
            "key": {b.name: b.key for b in ex.blanks},
            "exact": {b.name: b.exact for b in ex.blanks},
        })
    return dumps({"versions": versions_}) + "\n"
