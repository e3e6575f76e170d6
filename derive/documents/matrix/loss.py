"""The loss in matrix form: the error vector and its squared norm, or the cross-entropy of the outputs."""

from __future__ import annotations

import sympy as sp

from derive.core import functions as fn
from derive.core.numeric import MP, to_mp
from derive.documents.layout import cat, paren, text
from derive.documents.matrix.context import MatrixContext
from derive.documents.matrix.tables import unit_tables
from derive.documents.model import M, P, Section
from derive.documents.scalar import forward as scalar_forward

#: the most squared errors written out in the loss; with more, only the result is shown
MAX_SQUARES = 36


def section(m: MatrixContext) -> Section:
    """The loss section of the matrix form."""
    return Section("Loss", 1, tuple(loss_blocks(m)), "loss")


def loss_blocks(m: MatrixContext) -> list:
    """The error vector, then the loss as the sum of its squared entries; other losses output by output."""
    spec, run, g = m.spec, m.run, m.g
    rule = fn.LOSSES[spec.loss]
    if m.typeset and rule.term.has(sp.log):
        return entropy_loss_blocks(m)
    if not m.typeset or rule.squared is None:
        return scalar_forward.loss_blocks(m)
    coefficient, target_first = rule.squared.coefficient, rule.squared.target_first
    L, K = spec.layers, spec.sizes[-1]
    targets = m.s.rules.lift(spec.targets)
    sign = 1 if target_first else -1
    errors = [[sign * (targets[s][k] - run.out[L][s][k]) for k in range(K)] for s in range(spec.batch)]
    t, a = m.target(), m.a(L)
    symbol = f"{t} - {a}" if target_first else f"{a} - {t}"
    given = [m.values(targets, K), m.values(run.out[L], K)]
    first, second = given if target_first else given[::-1]
    difference = m.display(symbol, [*m.optional(symbol, first, cat(text("-"), second)),
                                       [m.values(errors, K)]], [e for row in errors for e in row])
    factor = coefficient * g.output_weight * g.batch_weight
    scale = "" if factor == 1 else m.tex(factor) + r"\,"
    norm = rf"\lVert {symbol} \rVert" + ("_F" if m.batch else "") + "^{2}"
    squares = [rf"{paren(m.num(e))}^{{2}}" for row in m.by_sample(lambda s, k: errors[s][k], K) for e in row]
    terms = [text(("" if k == 0 else "+ ") + sq) for k, sq in enumerate(squares)]
    if factor != 1:
        terms[0] = text(scale + r"\bigl(" + terms[0].latex)
        terms[-1] = text(terms[-1].latex + r"\bigr)")
    squared = [terms] if len(terms) <= MAX_SQUARES else []
    loss = m.display(m.n.loss().latex, [[text(scale + norm)], *squared, [text(m.num(run.loss))]],
                        [run.loss])
    lead = P("The error of every output" + (" and sample" if m.batch else "") + ":")
    if difference is None:  # too big to typeset: every entry in a table
        error = rf"t_k - a^{{[{L}]}}_k" if target_first else rf"a^{{[{L}]}}_k - t_k"
        errors_shown = [lead, *unit_tables(m, L, [(error, errors, symbol)], "The error of every output")]
    else:
        errors_shown = [lead, difference]
    return [
        *errors_shown,
        P("The loss is ", rule.squared.words,
          " of the squares of its entries",
          *((" (the squared Frobenius norm ", M(r"\lVert \cdot \rVert_F^2"), ")") if m.batch else ()), ":"),
        loss,
    ]


def entropy_loss_blocks(m: MatrixContext) -> list:
    """A cross-entropy loss in matrix form: the logarithms of the outputs, then the weighted sum of the terms."""
    spec, run, g = m.spec, m.run, m.g
    L, K, num = spec.layers, spec.sizes[-1], m.num
    targets = m.s.rules.lift(spec.targets)
    logs = [[MP.log(to_mp(o)) for o in row] for row in run.out[L]]
    a, t = m.a(L), m.target()

    def matrix(name: str, entry: str, values, caption: str):
        """The values as a matrix where it fits, else as a table unit by unit."""
        chain = m.display(name, [[m.values(values, K)]], [v for row in values for v in row])
        return chain if chain is not None else unit_tables(m, L, [(entry, values, name)], caption)[0]

    blocks = [P("The logarithm of every output" + (" and sample" if m.batch else "") + ":"),
              matrix(rf"\ln {a}", rf"\ln a^{{[{L}]}}_k", logs, "The logarithms of the outputs")]
    rule = fn.LOSSES[spec.loss]
    if rule.term.has(sp.log(1 - fn.a)):
        # binary cross-entropy also needs the logarithm of each output's complement
        rest = [[MP.log(1 - to_mp(o)) for o in row] for row in run.out[L]]
        blocks += [P("and of one minus every output:"),
                   matrix(rf"\ln(1 - {a})", rf"\ln(1 - a^{{[{L}]}}_k)", rest, "The logarithms of one minus the outputs")]
    factor = g.output_weight * g.batch_weight
    scale = "" if factor == 1 else m.tex(factor) + r"\,"
    if fn.cancels(rule, m.g.activation(L)):
        formula = (rf"-{scale}\sum_n (t^{{(n)}})^{{\top}} \ln a^{{[{L}]\,(n)}}" if m.batch
                   else rf"-{t}^{{\top}} \ln {a}")
        entry = lambda s, k: rf"{paren(num(targets[s][k]))} \cdot {paren(num(logs[s][k]))}"
        words = ("minus the targets times the logarithms, summed" + (" and averaged over the samples" if m.batch else ""),)
    else:
        n = "^{(n)}" if m.batch else ""
        formula = (rf"-{scale}\sum_{{{'n, ' if m.batch else ''}k}} \bigl(t{n}_k \ln a{n}_k"
                   rf" + (1 - t{n}_k) \ln(1 - a{n}_k)\bigr)")
        entry = lambda s, k: (rf"{paren(num(targets[s][k]))} \cdot {paren(num(logs[s][k]))} + "
                              rf"{paren(num(1 - targets[s][k]))} \cdot {paren(num(rest[s][k]))}")
        words = ("minus the mean, over every output" + (" and sample" if m.batch else "") + ", of ",
                 M(r"t \ln a + (1 - t) \ln(1 - a)"))
    entries = [entry(s, k) for s in range(spec.batch) for k in range(K)]
    terms = [text(("-" + scale + r"\bigl(" if k == 0 else "+ ") + e + (r"\bigr)" if k == len(entries) - 1 else ""))
             for k, e in enumerate(entries)]
    steps = [[text(formula)], *([terms] if len(terms) <= MAX_SQUARES else []), [text(num(run.loss))]]
    blocks += [P("The loss is ", *words, ":"), m.display(m.n.loss().latex, steps, [run.loss])]
    return [b for b in blocks if b is not None]
