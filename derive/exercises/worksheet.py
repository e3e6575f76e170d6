"""Worksheets and answer keys: the same exercise rendered for the student (blanks) and the teacher (filled).

An exercise is a network version plus the blanks chosen (R/exams' idea: data, solution,
template; the key is the same exercise for another audience). The key is computed
the way the sheet tells the student to work -- every result rounded to ``places``
decimals and reused -- by the check engine's rounded calculation
(:func:`derive.grading.rounding.answer_key`), so a careful student's numbers match it.

A fair key: every blank also carries every other value the verdict rule of ``derive
check`` accepts at the sheet's decimals, each with its reason
(:func:`derive.grading.rounding.accepted_answers`: the exact value rounded, or a
calculation that rounds every step to more decimals). The printed key, the Moodle and
Canvas quizzes and ``derive check NAME@ID`` all accept exactly that set.

The blanks come in the order a student computes them: the forward pass unit by unit,
the loss, the backward pass one unit at a time (its dE/dout, dout/dnet, delta, then the
gradients of the weights into it), then the update. Each blank is worth marks
(``--marks``: 1 by default, a number per stage to override).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

import sympy as sp

from derive.core import functions as fn
from derive.core.numeric import round_decimal
from derive.core.steps import Steps, names_in
from derive.core.versions import figures, smallest_meaningful
from derive.documents.context import Context
from derive.documents.diagram import build as diagram
from derive.documents.metadata import Metadata, document_metadata
from derive.documents.model import Table
from derive.documents.network import data_table, loss_formula, parameter_table
from derive.documents.options import Options
from derive.documents.printing import DerivePrinter, latex, shown
from derive.errors import DeriveError, suggestion
from derive.exercises.distractors import distractors
from derive.formats.render import render
from derive.grading.rounding import accepted_answers, agrees, answer_key, plain

#: blanks by level: which kinds of steps the student fills in
LEVELS = {
    "forward": ("net", "out", "error", "sample_loss", "loss"),
    "output": ("net", "out", "error", "sample_loss", "loss", "dE_dout@L", "dout_dnet@L", "jacobian@L", "delta@L",
               "gradient@L", "updated@L", "opt@L"),
    "full": ("net", "out", "error", "sample_loss", "loss", "dE_dout", "dout_dnet", "jacobian", "delta", "gradient",
             "updated", "opt"),
}
STAGES = {
    "forward": ("net", "out"),
    "loss": ("error", "sample_loss", "loss"),
    "backward": ("dE_dout", "dout_dnet", "jacobian", "delta", "path", "dnet_dp", "contribution", "gradient"),
    "update": ("updated", "opt"),
}
#: the largest number of marks one blank can be worth
MOST_MARKS = 100
STAGE_TITLES = (("forward", "Forward pass"), ("loss", "Loss"), ("backward", "Backward pass"), ("update", "Update"))


@dataclass(frozen=True)
class Blank:
    """One answer the student writes: its name, symbol, stage, and the key's value and worked step."""

    name: str
    latex: str
    stage: str
    key: str  # the key's value as written to the sheet's decimals
    step: tuple  # the worked step: rows (lhs, relation, rhs) with the rounded numbers put in
    exact: str  # the exact value, for the teacher (LaTeX)
    tolerance: str  # half a unit of the last decimal
    accepted: tuple  # Accepted: every value the verdict rule accepts at the sheet's decimals, the key's first
    distractors: tuple = ()  # Distractor: what the commonest named mistakes give here
    marks: int = 1
    group: tuple = ()  # the blanks a student works out together (a layer's forward pass, a unit's backward pass)
    label: str = ""  # the name a student types in a textbook's convention (Han's Err6); '' for derive's own
    sign: int = 1  # -1: the key is the book's -dE/dnet error term, the negative of derive's delta

    @property
    def derive_key(self) -> str:
        """The key's value in derive's sign (delta = dE/dnet), as the JSON names it."""
        return self.key if self.sign > 0 else plain(_times(-1, Decimal(self.key)))

    @property
    def derive_exact(self) -> str:
        """The exact value in derive's sign (LaTeX)."""
        if self.sign > 0 or self.exact == "0":
            return self.exact
        return self.exact[1:] if self.exact.startswith("-") else "-" + self.exact

    @property
    def typed(self) -> str:
        """The name a student types for this blank (``derive check``, quiz field labels)."""
        return self.label or self.name

    @property
    def values(self) -> tuple:
        """The accepted values as written (fixed decimals)."""
        return tuple(plain(a.value) for a in self.accepted)


@dataclass(frozen=True)
class Exercise:
    """A worksheet version: the solution it is about, its blanks, and how answers are written."""

    ident: str
    solution: object
    blanks: tuple
    places: int
    formulas: bool
    #: the course, lecturer, date and institution on the sheet's and key's title and running head
    meta: Metadata = Metadata()

    @property
    def marks(self) -> int:
        """The total of the marks of every blank."""
        return sum(b.marks for b in self.blanks)

    @property
    def title(self) -> str:
        """The network's title without the version (the sheet prints the version itself)."""
        return re.sub(r" \(version \d+-\d+\)$", "", self.solution.spec.title)


def stage_of(kind: str) -> str:
    return next(stage for stage, kinds in STAGES.items() if kind in kinds)


def marks_scheme(text: str | None) -> dict:
    """``--marks``: '2' (every blank), 'backward=2,update=1' or '1,backward=3' -> {stage or '': marks}."""
    scheme = {"": 1}
    for word in (w.strip() for w in (text or "").split(",") if w.strip()):
        stage, _, number = word.rpartition("=")
        stage = stage.strip()
        if stage and stage not in STAGES:
            raise DeriveError("--marks", f"unknown stage '{stage}'{suggestion(stage, list(STAGES))}; "
                              f"stages: {', '.join(STAGES)}")
        if not number.strip().isdigit() or int(number) > MOST_MARKS:
            raise DeriveError("--marks", f"expected a whole number of marks from 0 to {MOST_MARKS} in '{word}' "
                              "(quizzes weigh their fields in whole marks)")
        scheme[stage] = int(number)
    return scheme


def unit_order(step, steps, order: dict) -> tuple:
    """Where a step comes when a student works one unit at a time: stage, then (backward pass) unit, then reading order."""
    stage = list(STAGES).index(stage_of(step.kind))
    if stage_of(step.kind) != "backward":
        return (stage, 0, 0, order[step.name])
    key = step.key
    if key[0] in ("dE_dout", "dout_dnet", "delta"):
        l, j = key[1], key[3]
    elif key[0] in ("jacobian", "path"):
        l, j = key[1], key[4] if key[0] == "jacobian" else key[3]
    else:  # gradient, dnet_dp, contribution: (kind, "W"|"b", l, j, ...)
        l, j = key[2], key[3]
    return (stage, -l, j, order[step.name])


def choose(steps, blanks: str) -> list:
    """The steps the student fills in: levels, stages and names, comma-separated."""
    L = steps.spec.layers
    chosen, names = [], {s.name: s for s in steps}
    parameters = _optimizer_blanks(steps)
    for word in (w.strip() for w in blanks.split(",") if w.strip()):
        if word in parameters:
            chosen.extend(s for s in parameters[word] if s not in chosen)
        elif word in LEVELS or word in STAGES:
            kinds = LEVELS[word] if word in LEVELS else STAGES[word]
            for step in steps:
                for kind in kinds:
                    base, _, layer = kind.partition("@")
                    if step.kind != base or step.given or _alias(step, parameters):
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
            also = f"; a parameter's name asks for its optimizer steps ({', '.join(list(parameters)[:3])}, ...)" \
                if parameters else ""
            raise DeriveError("--blanks", f"unknown level, stage or quantity '{word}'"
                              f"{suggestion(word, known + list(parameters) + list(names))}; levels: "
                              f"{', '.join(known)}{also}")
    given = [s.name for s in chosen if s.given]
    if given:
        raise DeriveError("--blanks", f"{given[0]} is given on the sheet, not an answer")
    if not chosen:
        raise DeriveError("--blanks", "no blank chosen")
    order = {s.name: k for k, s in enumerate(steps)}
    return sorted(chosen, key=lambda s: order[s.name])


def _layer(step) -> int | None:
    """The layer of a step's key (gradients, updates and optimizer steps: the parameter's layer)."""
    key = step.key
    if key[0] in ("net", "out", "dE_dout", "dout_dnet", "jacobian", "delta"):
        return key[1]
    if key[0] in ("gradient", "updated"):
        return key[2]
    if key[0] == "opt":
        return key[4]
    return None


def _optimizer_blanks(steps) -> dict:
    """Each parameter's optimizer steps a student works out, by the parameter's name ({} for gradient descent).

    The state after each step (velocity, m, v, ...), the corrected moments and the parameter after
    the step; not the parameter's start or its gradient (the backward pass's, or given at later steps).
    """
    found: dict = {}
    for step in steps:
        if step.kind == "opt" and not step.given and step.key[2] not in ("dE_d",) and step.key[1] > 0:
            kind, l, j, i = step.key[3:]
            name = steps.by_key[("W", l, j, i) if kind == "W" else ("b", l, j)].name
            found.setdefault(name, []).append(step)
    return found


def _alias(step, parameters: dict) -> bool:
    """An optimizer's trivial steps: the starting parameter, the first gradient, and w_new (the same as w[1])."""
    if not parameters:
        return False
    return step.kind == "updated" or (step.kind == "opt" and not any(step in s for s in parameters.values()))


def group_of(step) -> tuple:
    """The blanks worked out together: a sample's layer (forward), the loss, a unit (backward), a layer (update)."""
    stage = stage_of(step.kind)
    if stage == "forward":
        return (stage, step.key[2], step.key[1])
    if stage == "backward":
        return (stage,) + unit_order(step, None, {step.name: 0})[1:3]
    if stage == "update" and step.kind == "opt":
        return (stage, step.key[1], *step.key[3:])  # one parameter's lines of one step
    if stage == "update":
        return (stage, step.key[2])
    return (stage,)


def exercise(solution, options: Options, ident: str, marks: dict | None = None) -> Exercise:
    """The exercise of one version: the options' ``blanks`` in working order, with the key of a calculation rounding
    to ``places`` decimals; ``formulas``: the sheet prints the formulas students may use; ``marks``: per stage."""
    blanks, places = options.blanks, options.places

    steps = Steps(solution)
    steps.verify()
    scheme = marks if marks is not None else marks_scheme(None)
    order = {name: k for k, name in enumerate(steps.steps)}
    chosen = sorted(choose(steps, blanks), key=lambda s: unit_order(s, steps, order))
    key = answer_key(steps, places)
    _refuse_thin_state(steps, chosen, key, places)
    world = steps.world(places=places)
    accepted = accepted_answers(steps, places, [s.name for s in chosen])
    tolerance = Decimal(5).scaleb(-(places + 1))
    wrong = distractors(steps, chosen, places, accepted, tolerance)
    book = Book(steps)
    made = []
    for step in chosen:
        rounded, exact = key[step.name]
        sign = book.sign(step)
        made.append(Blank(step.name, book.latex_of(step), stage_of(step.kind), plain(_times(sign, rounded)),
                          worked(steps, world, step, places, rounded, book), shown(sign * exact, 9).latex,
                          plain(tolerance), _signed(accepted[step.name], sign), book.entries(_signed(wrong[step.name], sign)),
                          scheme.get(stage_of(step.kind), scheme[""]), group_of(step), book.text_of(step), sign))
    return Exercise(ident, solution, tuple(made), places, options.formulas,
                    document_metadata(solution.spec, options.metadata))


class Book:
    """The names a worksheet prints and a student types: the solution's textbook convention's, else derive's own.

    A book whose error term is -dE/dnet (Han's Err, Mitchell's delta) asks for that term in
    its own sign: the blank is Err_6 and its key, accepted values and distractors are
    negated (``derive check --convention han`` reads Err6 with the same sign).
    """

    def __init__(self, steps):
        solution = steps.solution
        self.convention = getattr(solution, "convention", "") and solution.document_names.convention
        self.names = names_in(steps, solution.document_names) if self.convention else {}
        self.latex = dict(steps.latex)
        if self.convention:
            for name, found in self.names.items():
                self.latex[steps[name].symbol] = found.latex
            self.latex[steps["eta"].symbol] = self.convention.rate.latex

    def sign(self, step) -> int:
        """-1 for the error term of a book that writes it as -dE/dnet."""
        return self.convention.error_sign if self.convention and step.kind == "delta" else 1

    def latex_of(self, step) -> str:
        """The blank's symbol as the book writes it (Err_6, not the (-Err_6) that stands for dE/dnet in formulas)."""
        if not self.convention:
            return step.latex
        found = self.names[step.name].latex
        if self.sign(step) < 0 and found.startswith(r"\left(-") and found.endswith(r"\right)"):
            found = found[len(r"\left(-"):-len(r"\right)")]
        return found

    def entries(self, found: tuple) -> tuple:
        """Distractors with the step where the mistake enters named as the book names it."""
        if not self.convention:
            return found
        return tuple(replace(d, entry=self.names[d.entry].text) if d.entry in self.names else d for d in found)

    def text_of(self, step) -> str:
        """The name a student types in the book's convention ('' for derive's own names)."""
        return self.names[step.name].text if self.convention else ""


def _times(sign: int, value):
    """value times the sign, a zero kept without a minus."""
    return value if sign > 0 or not value else -value


def _signed(values: tuple, sign: int) -> tuple:
    """Accepted values or distractors in the book's sign (negated for a -dE/dnet error term)."""
    return values if sign > 0 else tuple(replace(v, value=_times(sign, v.value)) for v in values)


def _refuse_thin_state(steps, chosen, key, places: int):
    """Refuse an optimizer blank that rounds to fewer significant figures than a sheet keeps.

    Adam's and RMSprop's second moments are tiny ((1 - beta2) g^2 is about 1e-6 on a small network):
    rounded to the sheet's decimals they become 0, and the update divides by sqrt(0) + eps, so the
    careful student's parameter would be off by a million. The message names the decimals that suffice.
    """
    state = [s for s in chosen if s.kind == "opt"]
    sizes = [(abs(float(key[s.name][1])), s.name) for s in state if float(key[s.name][1]) != 0]
    thin = [(size, name) for size, name in sizes if size < smallest_meaningful(places)]
    if not thin:
        return
    size, name = min(thin)
    needed = next(p for p in range(places + 1, 60) if size >= smallest_meaningful(p))
    raise DeriveError("--places", f"{name} is {size:.3g}: at {places} decimals it keeps fewer than "
                      f"{figures(places)} significant figures and the later steps divide by its root; ask for "
                      f"--places {needed}, or leave the optimizer's steps out (--blanks forward,backward)")


def worked(steps, world, step, places: int, rounded, book: Book | None = None) -> tuple:
    """The worked step as rows (lhs, relation, rhs): the formula, the numbers put in, the value.

    Numbers the student computed are put in as they wrote them, to the sheet's decimals
    (0.2450, not 0.245); given numbers as given. ``book`` writes the names (and the error
    term's sign) of a textbook's convention.
    """
    book = book if book is not None else Book(steps)
    names = book.latex
    numbers = {steps[p].symbol: _put_in(steps, world, p, places) for p in steps.parents(step.formula)}
    general = latex(step.formula, names)
    filled = DerivePrinter(names, numbers).doprint(step.formula)
    sign = book.sign(step)
    if sign < 0:  # Err_6 = -(dE/dO_6 * dO_6/dI_6): the book's sign of dE/dnet
        general, filled = rf"-\left({general}\right)", rf"-\left({filled}\right)"
    rows = [(book.latex_of(step), "=", general)]
    if filled != general:
        rows.append(("", "=", filled))
    raw = world.evaluate(world.formula(step))  # before this step's own rounding
    # '=' when the value has no more decimals than written (a 60-digit float within 1e-30 units of it counts)
    rows.append(("", "=" if agrees(raw, Fraction(rounded), places + 30) else r"\approx", plain(_times(sign, rounded))))
    return tuple(rows)


def _put_in(steps, world, name: str, places: int) -> str:
    """A number as the worked step puts it in: given numbers as given, computed ones to the sheet's decimals.

    A step that only names another number (dnet/dw = the input w multiplies, dnet/db = 1)
    is written as that number.
    """
    step = steps[name]
    while not step.given and isinstance(step.formula, sp.Symbol):
        step = steps.by_symbol[step.formula]
    if step.given:
        return shown(world.used(step.name), 12).latex
    if step.formula.is_number:
        return shown(world.used(step.name), 12).latex
    return plain(round_decimal(world.used(step.name), places))


def thin(ex: Exercise) -> list[str]:
    """The blanks of the loss and backward pass that keep fewer significant figures than a sheet needs.

    Drawn versions never have them (:mod:`derive.core.versions`); a spec used as it is may.
    """
    smallest = smallest_meaningful(ex.places)
    return [b.name for b in ex.blanks
            if b.stage in ("loss", "backward") and b.exact != "0" and abs(float(b.key)) < smallest]


def thin_note(ex: Exercise) -> str:
    """A note for the teacher about thin blanks ('' when there are none)."""
    thin_names = set(thin(ex))
    names = [b.typed for b in ex.blanks if b.name in thin_names]  # as the sheet names them
    if not names:
        return ""
    return (f"{len(names)} blank{'s' if len(names) > 1 else ''} of {ex.title} keep fewer than {figures(ex.places)} "
            f"significant figures at {ex.places} decimals ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''}): "
            f"ask for more decimals (--places {ex.places + 1}) or draw versions (--variants N), whose numbers avoid it")


def by_stage(ex: Exercise) -> list[tuple[str, list]]:
    """The blanks grouped by stage, in the order of the calculation."""
    return [(title, [b for b in ex.blanks if b.stage == stage]) for stage, title in STAGE_TITLES
            if any(b.stage == stage for b in ex.blanks)]


#: the most rows in one block of answers (a block is never split across pages)
BLOCK_ROWS = 10


def blocks(blanks: list) -> list[list]:
    """The blanks of a stage in blocks worked out together (see Blank.group), none longer than BLOCK_ROWS."""
    found: list[list] = []
    for b in blanks:
        if found and found[-1][-1].group == b.group and len(found[-1]) < BLOCK_ROWS:
            found[-1].append(b)
        else:
            found.append([b])
    return found


def _activation_words(name: str) -> str:
    """An activation's name in words: 'sigmoid', 'ReLU', 'leaky ReLU (slope 0.2)', 'linear'."""
    if name.startswith("leaky_relu"):
        slope = name[len("leaky_relu("):-1] if "(" in name else fn.LEAKY_SLOPE
        return f"leaky ReLU (slope {slope})"
    return {"relu": "ReLU", "identity": "linear"}.get(name, name)


def network_words(spec) -> str:
    """The network in words: 'The network has 2 inputs, a hidden layer of 2 sigmoid units and 2 sigmoid output units.'"""
    plural = lambda n, word: f"{n} {word}{'s' if n != 1 else ''}"  # noqa: E731
    hidden = spec.sizes[1:-1]
    parts = [plural(spec.sizes[0], "input")]
    for l, n in enumerate(hidden, start=1):
        which = "a hidden layer" if len(hidden) == 1 else f"hidden layer {l}"
        parts.append(f"{which} of {plural(n, _activation_words(spec.activations[l - 1]) + ' unit')}")
    parts.append(plural(spec.sizes[-1], _activation_words(spec.activations[-1]) + " output unit"))
    text = ", ".join(parts[:-1]) + " and " + parts[-1]
    samples = f", and is trained on {spec.batch} samples at once" if spec.batch > 1 else ""
    return f"The network has {text}{samples}."


def context(ex: Exercise, key: bool) -> dict:
    """What the worksheet templates need: the exercise, the given numbers, the diagram and the formulas."""

    ctx = Context(ex.solution, Options(digits=6))
    spec = ex.solution.spec
    formulas = formula_lines(ctx, spec) if ex.formulas else []
    task, hyper, gradients = training_task(ex, ctx)
    numbers = {b.name: k for k, b in enumerate(ex.blanks, start=1)}
    stages = [(title, group, sum(b.marks for b in group), blocks(group)) for title, group in by_stage(ex)]
    return {
        "ex": ex, "meta": ex.meta, "key": key, "stages": stages, "numbers": numbers, "total": ex.marks,
        "network": network_words(spec), "loss": fn.LOSSES[spec.loss].title, "loss_formula": loss_formula(ctx),
        "parameters": parameter_table(ctx), "data": data_table(ctx),
        "eta": ctx.num(spec.learning_rate), "rate": ctx.n.convention.rate.latex if ctx.n.convention else r"\eta", "update_biases": spec.update_biases,
        "diagram": diagram(ex.solution, "weights", digits=6), "formulas": formulas,
        "task": task, "hyper": hyper, "gradients": gradients,
        "example": rounding_example(ex.places),
    }


def formula_lines(ctx, spec) -> list[str]:
    """The formulas students may use, in derive's names or (a convention) the book's names and signs."""
    book = ctx.n.convention
    if book is None:
        net, out = (r"\mathrm{net}", r"\mathrm{out}") if ctx.n.units else ("z", "a")
    else:
        net, out = book.net.latex, book.out.latex
    lines = []
    for name in dict.fromkeys(spec.activations):
        act = fn.ACTIVATIONS[name]
        derivative = act.identity.xreplace({fn.a: sp.Symbol("out"), fn.z: sp.Symbol(net)})
        lines.append(act.equation_latex(net, out) + rf", \quad {act.derivative_latex.format(net)} = "
                     + latex(derivative, {}).replace("out", out))
    if book is None:
        lines.append(r"\delta = \frac{\partial E}{\partial \mathrm{out}} \cdot \frac{\partial \mathrm{out}}{\partial \mathrm{net}}, \quad \frac{\partial E}{\partial w} = \delta \cdot (\text{the input } w \text{ multiplies})")
        lines.append(r"\frac{\partial E}{\partial \mathrm{out}_{h}} = \sum_{k} \delta_{k} \, w_{k h}, \qquad w^{+} = w - \eta \, \frac{\partial E}{\partial w}")
        return lines
    E, err, w = book.loss.latex, book.error.latex, book.weight.latex
    minus = "-" if book.error_sign < 0 else ""
    # the weight from unit h to unit k, indexed as the book indexes it
    w_hk = rf"{w}_{{h k}}" if book.numbering == "global_from_to" else rf"{w}_{{k h}}"
    lines.append(rf"{err} = {minus}\frac{{\partial {E}}}{{\partial {out}}} \cdot \frac{{\partial {out}}}{{\partial {net}}}, "
                 rf"\quad \frac{{\partial {E}}}{{\partial {w}}} = {minus}{err} \cdot (\text{{the input }} {w} \text{{ multiplies}})")
    lines.append(rf"\frac{{\partial {E}}}{{\partial {out}_{{h}}}} = {minus}\sum_{{k}} {err}_{{k}} \, {w_hk}, \qquad {book.update}")
    return lines


STEP_WORDS = {1: "one step", 2: "two steps", 3: "three steps"}


def training_task(ex: Exercise, ctx) -> tuple:
    """What the sheet asks the student to work through: ('one step of gradient descent', hyper-parameters as
    LaTeX, the table of the later steps' gradients or None). The later steps' forward and backward passes are
    not asked for: their gradients are given, for the parameters whose later steps are blanks."""
    trajectory = getattr(ex.solution, "trajectory", None)
    if trajectory is None:
        return "one step of gradient descent", (), None
    settings = trajectory.training.settings
    entry = settings.entry
    count = len(trajectory.steps)
    task = f"{STEP_WORDS.get(count, f'{count} steps')} of {entry.title}"
    if settings.form != "pytorch":
        task += f" (in {settings.form.capitalize()}'s form)"
    hyper = tuple(f"{h.symbol} = {ctx.num(settings[h.key])}" for h in entry.hyper
                  if h.kind != "bool" and (settings[h.key] or h.key != "weight_decay"))
    flags = [h.key for h in entry.hyper if h.kind == "bool" and settings[h.key]]
    if flags:
        hyper += tuple(rf"	ext{{{f}}}" for f in flags)
    asked = {b.name for b in ex.blanks}
    steps = Steps(ex.solution)
    rows = []
    for step in steps:
        if step.kind == "opt" and step.key[2] == "dE_d" and step.given and step.key[1] > 1:
            t, rest = step.key[1], step.key[3:]
            later = [s for s in steps if s.kind == "opt" and s.key[1] == t and s.key[3:] == rest]
            if any(s.name in asked for s in later):
                rows.append((step.latex, ctx.num(steps.given_value(step.name))))
    table = Table((r"gradient", "value"), tuple(rows), ("math", "math"), "lr",
                  "Gradients at the later steps") if rows else None
    return task, hyper, table


def rounding_example(places: int) -> tuple[str, str]:
    """An example of rounding half away from zero at ``places`` decimals: ('-0.12345', '-0.1235') at 4."""
    digits = "123456789"[:places] + "5"
    value = Decimal("-0." + digits) if places > 0 else Decimal("-2.5")
    return plain(value), plain(round_decimal(value, places))


def true_minus(text: str) -> str:
    """Prose with true minus signs and arrows: '(t - out)', '-0.0425', 'i2 -> h1' as '(t − out)', '−0.0425', 'i2 → h1'."""
    text = text.replace("->", "\u2192").replace(" - ", " \u2212 ")
    return re.sub(r"(?<![\w)\]])-(?=[\w.(])", "\u2212", text)


def givens_html(ex: Exercise, sheet: dict, math) -> str:
    """The numbers a quiz question gives, as HTML: the network, learning rate, rounding rule and tables.

    One template for every course platform; ``math`` writes a piece of LaTeX the way the
    platform shows mathematics (Moodle: MathJax delimiters; Canvas: plain HTML).
    """

    return render("md/givens.html.j2", ex=ex, sheet=sheet, spec=ex.solution.spec, eta=sheet["rate"] + " = " + sheet["eta"],
                  tables=(sheet["parameters"], sheet["data"], *([sheet["gradients"]] if sheet["gradients"] else [])),
                  math=math).rstrip("\n")
