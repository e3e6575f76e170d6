"""Worksheets and answer keys: the same exercise rendered for the student (blanks) and the teacher (filled).

An exercise is a network version plus the blanks chosen (R/exams' idea: data, solution,
template; the key is the same exercise for another audience). The key is computed
the way the sheet tells the student to work -- every result rounded to ``places``
decimals and reused -- by the check engine's rounded calculation
(:func:`derive.grading.rounding.answer_key`), so a careful student's numbers match it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import sympy as sp

from derive.core import functions as fn
from derive.core.numeric import round_decimal
from derive.core.steps import Steps
from derive.documents.diagram import build as diagram
from derive.documents.printing import latex, shown, with_numbers
from derive.documents.scalar import Writer
from derive.errors import DeriveError, suggestion
from derive.formats.render import render
from derive.grading.rounding import answer_key, plain

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

    w = Writer(ex.solution, digits=6)
    spec = ex.solution.spec
    formulas = []
    if ex.formulas:

        for name in dict.fromkeys(spec.activations):
            act = fn.ACTIVATIONS[name]
            net, out = (r"\mathrm{net}", r"\mathrm{out}") if w.n.units else ("z", "a")
            derivative = act.identity.xreplace({fn.a: sp.Symbol("out"), fn.z: sp.Symbol(net)})
            formulas.append(act.equation_latex(net, out) + rf", \quad {act.derivative_latex.format(net)} = "
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


def givens_html(ex: Exercise, sheet: dict, math) -> str:
    """The numbers a quiz question gives, as HTML: the network, learning rate, rounding rule and tables.

    One template for every course platform; ``math`` writes a piece of LaTeX the way the
    platform shows mathematics (Moodle: MathJax delimiters; Canvas: plain HTML).
    """

    return render("md/givens.html.j2", ex=ex, spec=ex.solution.spec, eta=r"\eta = " + sheet["eta"],
                  tables=(sheet["parameters"], sheet["data"]), math=math).rstrip("\n")
