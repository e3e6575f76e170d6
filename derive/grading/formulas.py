"""Check answers that are formulas: ``"dE/dw5" = "(out_o1 - t_o1)*out_o1*(1-out_o1)*out_h1"``.

An answers file whose values are text in quotes holds formulas in the network's own
names (the names of ``derive solve``'s quantities that are single words: ``out_o1``,
``net_h1``, ``t_o1``, ``w5``, ``b_h1``, ``i1``, ``delta_o1``; or ``a2_1``, ``z1_3``,
``W2_1_3`` ... in the layered names), numbers, ``+ - * / ^`` and the functions of
:mod:`derive.core.expressions` (``sigmoid``, ``exp``, ``ln``, ...). Each formula is read
by that module's safe parser, never evaluated as code.

An answer is right when it is the same function as the general formula
(:mod:`derive.core.general`): both are written down to the network's inputs, targets and
parameters (each delta, output and net input replaced by its definition) and compared
at random points with 30 significant digits, after SymPy has tried to prove the
difference zero directly. A wrong answer is compared with the formulas the named
mistakes of :data:`MISTAKES` give (a factor left out, the activation's derivative taken
at the output instead of the net input, one path only, the error's sign), each one
registry entry.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sympy as sp

from derive.core import functions as fn
from derive.core.expressions import elementary, parse
from derive.core.general import General
from derive.core.graph import product
from derive.core.solve import solve
from derive.core.steps import Steps, formula_text
from derive.core.versions import load
from derive.documents.printing import latex
from derive.errors import DeriveError
from derive.formats import escape
from derive.grading import report
from derive.grading.answers import Names, read_document, read_text
from derive.grading.check import Checked
from derive.grading.report import RIGHT, WRONG
from derive.io.export import dumps

#: the kinds of quantity a formula answer may be given for
KINDS = ("net", "out", "error", "sample_loss", "loss", "dE_dout", "dout_dnet", "delta", "gradient")
#: random points the two formulas are compared at, and the digits they must agree to
POINTS, DIGITS = 3, 30


@dataclass(frozen=True)
class FormulaAnswer:
    """One formula answer: the quantity, how the file named it, the text, and the formula read from it."""

    name: str
    label: str
    text: str
    formula: sp.Expr


@dataclass(frozen=True)
class FormulaMistake:
    """A named symbolic mistake: the formulas it gives for a quantity (each with what it changed)."""

    kind: str
    title: str
    sentence: str  # what went wrong, with {detail}
    variants: object  # (Formulas, step) -> list of (formula, detail)


@dataclass(frozen=True)
class FormulaResult:
    answer: FormulaAnswer
    expected: sp.Expr
    verdict: str
    mistake: FormulaMistake | None = None
    detail: str = ""

    @property
    def name(self) -> str:
        return self.answer.name


class Formulas:
    """The general formula of every quantity of one network, and equivalence down to its givens."""

    def __init__(self, solution):
        self.solution = solution
        self.steps = Steps(solution)
        self.graph = solution.graph
        self.general = General(self.graph)
        self.spec = solution.spec
        # every name that is a single word may be written in a formula
        self.symbols = {step.name: step.symbol for step in self.steps
                        if step.name.isidentifier() and step.kind not in ("eta", "updated")}
        self.names = Names(self.steps)

    # -- the expected formulas ---------------------------------------------------------
    def expected(self, name: str) -> sp.Expr:
        step = self.steps[name]
        key, G = step.key, self.general
        kind = key[0]
        if kind not in KINDS:
            raise DeriveError(name, f"is a number, not a formula; formula answers are given for {', '.join(KINDS)}")
        if kind == "dE_dout":
            return G.dE_dout(*key[1:])
        if kind == "dout_dnet":
            return G.dout_dnet(*key[1:])
        if kind == "delta":
            return G.delta(*key[1:])
        if kind == "gradient":
            return G.gradient(key[1], key[2], key[3], key[4])
        return step.formula

    def factors(self, name: str) -> tuple:
        """The chain-rule factors of a quantity (one sample), for the mistakes that drop or change one."""
        key = self.steps[name].key
        G = self.general
        if key[0] == "gradient" and self.spec.batch == 1:
            return G.factors(key[1], key[2], 0, key[3], key[4])
        if key[0] == "delta" and not self.graph.activation(key[1]).coupled:
            return (G.dE_dout(*key[1:]), G.dout_dnet(*key[1:]))
        return ()

    # -- equivalence -------------------------------------------------------------------
    def base(self, expr: sp.Expr) -> sp.Expr:
        """The formula in the network's givens: every delta, output, net input and loss replaced by its definition."""
        g = self.graph
        for _ in range(4 * self.spec.layers + 6):
            swap = {}
            for symbol in expr.free_symbols:
                kind, *at = g.index.get(symbol, (None,))
                if kind == "delta":
                    swap[symbol] = self.general.delta(*at)
                elif kind == "out" and at[0] > 0:
                    swap[symbol] = g.out_definition(*at)
                elif kind == "net":
                    swap[symbol] = sp.Add(*g.net_terms(*at))
                elif kind == "error":
                    swap[symbol] = g.error_definition(*at)
                elif kind == "sample_loss":
                    swap[symbol] = g.sample_loss_definition(*at)
                elif kind == "loss":
                    swap[symbol] = g.batch_weight * sp.Add(*(g.sample_loss(s) for s in range(self.spec.batch)))
            if not swap:
                return elementary(expr)
            expr = expr.xreplace(swap)
        return elementary(expr)

    def same(self, a: sp.Expr, b: sp.Expr) -> bool:
        """True when two formulas are the same function of the network's givens."""
        difference = sp.expand(a - b)
        if difference == 0:
            return True
        a, b = self.base(a), self.base(b)
        if a == b:
            return True
        symbols = sorted(a.free_symbols | b.free_symbols, key=str)
        rng = random.Random(20240917)
        for _ in range(POINTS):
            point = {s: sp.Rational(rng.randint(-90, 90) or 7, 100) for s in symbols}
            # targets and outputs of the entropy losses are probabilities
            for s in symbols:
                if self.graph.index.get(s, ("",))[0] == "t":
                    point[s] = sp.Rational(rng.randint(5, 95), 100)
            x, y = sp.N(a.xreplace(point), DIGITS + 5), sp.N(b.xreplace(point), DIGITS + 5)
            if not (x.is_number and y.is_number):
                return False
            if abs(x - y) > sp.Float(10) ** -DIGITS * (1 + abs(y)):
                return False
        return True

    # -- answers -----------------------------------------------------------------------
    def read(self, text: str, where: str, kind: str = "toml") -> list[FormulaAnswer]:
        """The formula answers of a TOML or JSON text, each read by the safe parser."""
        document = read_document(text, where, kind)
        if isinstance(document.get("answers"), dict) and len(document) == 1:
            document = document["answers"]
        answers, seen = [], {}
        for label, value in document.items():
            if not isinstance(value, str):
                raise DeriveError(f"{where}: {label}", "expected a formula in quotes, e.g. \"(out_o1 - t_o1)*out_h1\"; "
                                  "numbers are checked in an answers file of their own")
            name = self.names.resolve(label, where)
            if name in seen:
                raise DeriveError(f"{where}: {label}", f"{name} is given twice (as {seen[name]} and as {label})")
            seen[name] = label
            if self.steps[name].kind not in KINDS:
                raise DeriveError(f"{where}: {label}", f"{name} is a number of the problem or of the update, not a "
                                  f"formula to derive; formula answers are given for {', '.join(KINDS)}")
            formula = parse(value, self.symbols, where, label)
            answers.append(FormulaAnswer(name, label, value, formula))
        if not answers:
            raise DeriveError(where, "holds no answers; write one `name = \"formula\"` per line")
        order = {name: k for k, name in enumerate(self.steps.steps)}
        return sorted(answers, key=lambda a: order[a.name])

    def judge(self, answer: FormulaAnswer) -> FormulaResult:
        expected = self.expected(answer.name)
        if self.same(answer.formula, expected):
            return FormulaResult(answer, expected, RIGHT)
        step = self.steps[answer.name]
        for mistake in MISTAKES.values():
            for variant, detail in mistake.variants(self, step):
                if self.same(answer.formula, variant):
                    return FormulaResult(answer, expected, WRONG, mistake, detail)
        return FormulaResult(answer, expected, WRONG)

    def tex(self, expr) -> str:
        return latex(expr, self.graph.latex)

    def text(self, expr) -> str:
        """A formula in the plain syntax answers are written in."""
        return formula_text(_flat(expr))


def _flat(expr):
    """Products inside products as one product, in the written order: a*b*c, not (a*b)*c."""
    if not expr.args:
        return expr
    args = [_flat(arg) for arg in expr.args]
    if isinstance(expr, sp.Mul):
        spliced = [part for arg in args for part in (arg.args if isinstance(arg, sp.Mul) else (arg,))]
        return sp.Mul(*spliced, evaluate=False)
    if isinstance(expr, sp.Add):
        return sp.Add(*args, evaluate=False)
    return expr.func(*args)


# -- the named mistakes ----------------------------------------------------------------------------

def _missing_factor(formulas: Formulas, step) -> list:
    factors = formulas.factors(step.name)
    if len(factors) < 2:
        return []
    weight = formulas.graph.batch_weight if step.kind == "gradient" else 1
    out = []
    for k, factor in enumerate(factors):
        if factor == 1:
            continue
        rest = [f for m, f in enumerate(factors) if m != k]
        out.append((weight * product(*rest), formulas.text(factor)))
    return out


def _derivative_at_out(formulas: Formulas, step) -> list:
    """The activation's derivative written at the unit's output instead of its net input: f'(out)."""
    key, g = step.key, formulas.graph
    if step.kind not in ("dout_dnet", "delta", "gradient"):
        return []
    if step.kind == "gradient":
        l, j = key[2], key[3]
    else:
        l, j = key[1], key[3]
    act = g.activation(l)
    if act.coupled or act.name == "identity":
        return []
    s = 0
    right = g.dout_dnet(l, s, j)
    wrong = act.derivative().xreplace({fn.z: g.out(l, s, j)})
    expected = formulas.expected(step.name)
    if step.kind == "dout_dnet":
        changed = wrong
    else:
        changed = expected.xreplace({right: wrong}) if expected.has(right) else None
        if changed is None or changed == expected:
            factors = formulas.factors(step.name)
            if right not in factors:
                return []
            changed = product(*(wrong if f == right else f for f in factors))
            if step.kind == "gradient":
                changed = formulas.graph.batch_weight * changed
    return [(changed, f"{act.name}'({g.names[g.out(l, s, j)]})")]


def _one_path(formulas: Formulas, step) -> list:
    """A hidden unit's dE/dout with one path through the layer above instead of the sum over all of them."""
    g, G, spec = formulas.graph, formulas.general, formulas.spec
    key = step.key
    if step.kind == "dE_dout":
        l, s, j = key[1:]
    elif step.kind == "delta":
        l, s, j = key[1:]
    elif step.kind == "gradient" and spec.batch == 1:
        l, s, j = key[2], 0, key[3]
    else:
        return []
    if l == spec.layers or spec.sizes[l + 1] < 2:
        return []
    out = []
    for k in range(spec.sizes[l + 1]):
        path = product(G.delta(l + 1, s, k), g.W(l + 1, k, j))
        if step.kind == "dE_dout":
            changed = path
        else:
            rest = formulas.factors(step.name)[1:]
            changed = product(path, *rest)
            if step.kind == "gradient":
                changed = g.batch_weight * changed
        out.append((changed, f"through {formulas.steps.notation.unit(l + 1, k).text} only"))
    return out


def _error_sign(formulas: Formulas, step) -> list:
    """The error written t - out instead of out - t: the whole formula has the opposite sign."""
    if step.kind not in ("dE_dout", "delta", "gradient"):
        return []
    return [(-formulas.expected(step.name), "t - out for out - t")]


MISTAKES = {
    m.kind: m
    for m in (
        FormulaMistake("missing_factor", "a factor left out",
                       "The formula is the right product without the factor {detail}: the chain rule multiplies "
                       "every local derivative on the way.", _missing_factor),
        FormulaMistake("derivative_at_out", "the activation's derivative taken at the output",
                       "The activation's derivative is taken at the unit's output ({detail}) instead of its net "
                       "input; with out = f(net) it is f'(net), for the sigmoid out (1 - out).", _derivative_at_out),
        FormulaMistake("one_path", "one path only",
                       "Only one path is followed ({detail}): a hidden output feeds every unit of the layer above, so "
                       "its derivative is the sum over all of those paths.", _one_path),
        FormulaMistake("error_sign", "the sign of the error",
                       "The formula has the opposite sign: the derivative of the squared error is out - t, not "
                       "t - out.", _error_sign),
    )
}


# -- the report ---------------------------------------------------------------------------------

@dataclass
class FormulaReport:
    formulas: Formulas
    source: str
    results: list

    def count(self, verdict: str) -> int:
        return sum(r.verdict == verdict for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if all(r.verdict == RIGHT for r in self.results) else 1

    def summary(self) -> str:
        return report.summary(self.results, "formula", steps=False)


def check(solution, text: str, where: str = "answers", kind: str = "toml") -> FormulaReport:
    """Judge every formula answer of a TOML (or JSON) text against the network's general formulas."""
    formulas = Formulas(solution)
    answers = formulas.read(text, where, kind)
    return FormulaReport(formulas, where, [formulas.judge(a) for a in answers])


def check_file(spec_source, answers_path) -> FormulaReport:
    text, kind = read_text(answers_path)
    return check(solve(load(spec_source)), text, Path(answers_path).name, kind)


def is_formula_file(answers_path) -> bool:
    """True when an answers file holds formulas (text in quotes) rather than numbers."""
    text, kind = read_text(answers_path)
    document = read_document(text, str(answers_path), kind)
    values = list(document.values())
    if len(values) == 1 and isinstance(values[0], dict):
        values = list(values[0].values())
    return any(isinstance(v, str) and not _is_number(v) for v in values)


def _is_number(text: str) -> bool:
    """True for a number written in quotes ("0.75"): a numeric answer in the wrong type, not a formula."""
    try:
        Decimal(text.strip())
    except ArithmeticError:
        return False
    return True


def _words(r: FormulaResult) -> str:
    if r.verdict == RIGHT:
        return "right"
    return "wrong: " + r.mistake.title if r.mistake else "wrong"


UNNAMED = "This is not the same function as the right formula; compare it factor by factor."


def page(checked: FormulaReport) -> report.Page:
    """The report's page: every formula, then each wrong one with its mistake and the right formula."""
    f = checked.formulas

    def line(r: FormulaResult) -> report.Line:
        return report.Line(r.name, r.name, r.answer.text, "", _words(r))

    def wrong(r: FormulaResult) -> report.Wrong:
        right = report.Step((f"{r.name} = {f.text(r.expected)}",), f"{f.steps[r.name].latex} = {f.tex(r.expected)}")
        sentence = r.mistake.sentence.format(detail=r.detail) if r.mistake else UNNAMED
        return report.Wrong((line(r),), r.name, sentence, r.mistake is not None, (), None, (right,))

    return report.Page(
        heading=f"{f.spec.title} ({f.spec.name}): formulas from {checked.source}",
        title=f.spec.title,
        intro=f"The formulas in {escape.code(checked.source)}, compared with the general formulas of "
              f"{escape.code(f.spec.name)}: a formula is right when it is the same function of the network's "
              "quantities, however it is written.",
        exact=False,
        answers=tuple(line(r) for r in checked.results),
        summary=checked.summary(),
        readings="",
        wrong=tuple(wrong(r) for r in checked.results if r.verdict != RIGHT),
        right="formula",
        code_given=True,
        checking="formulas",
    )


def to_text(checked: FormulaReport) -> str:
    """The terminal report: a table of every formula, then each wrong one with its mistake and the right formula."""
    return report.to_text(page(checked))


def to_markdown(checked: FormulaReport) -> str:
    """The report in Markdown, the right formulas in LaTeX."""
    return report.to_markdown(page(checked))


def to_json(report: FormulaReport) -> str:
    f = report.formulas
    entries = []
    for r in report.results:
        entry = {"name": r.name, "label": r.answer.label, "given": r.answer.text, "verdict": r.verdict,
                 "right_formula": f.text(r.expected), "right_latex": f.tex(r.expected)}
        if r.mistake:
            entry["mistake"] = {"kind": r.mistake.kind, "title": r.mistake.title,
                                "sentence": r.mistake.sentence.format(detail=r.detail)}
        entries.append(entry)
    document = {"spec": f.spec.name, "answers_file": report.source,
                "summary": {"answers": len(report.results), "right": report.count(RIGHT), "wrong": report.count(WRONG)},
                "answers": entries}
    json.dumps(document)
    return dumps(document) + "\n"


def checked(report: FormulaReport) -> Checked:
    """The job of a check of formula answers: its report with the writers of this module (see
    derive.grading.check.CHECKS)."""
    return Checked(report, to_text, to_markdown, to_json)
