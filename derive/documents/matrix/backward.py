"""The backward pass in matrix form: each layer's delta vector (from the loss, or every path through the layer above)."""

from __future__ import annotations

import sympy as sp

from derive.core import functions as fn
from derive.documents.layout import cat, paren, pmatrix, text, transposed
from derive.documents.matrix.context import MatrixContext
from derive.documents.matrix.gradients import gradient_blocks
from derive.documents.matrix.softmax import softmax_delta_blocks
from derive.documents.matrix.tables import unit_tables
from derive.documents.model import M, P, Section


def section(m: MatrixContext) -> Section:
    """The backward pass in matrix form, from the output layer down."""
    spec = m.spec
    L = spec.layers
    lead = [
        "The backward pass in matrix form. ", M(r"\delta^{[l]} = \partial E/\partial z^{[l]}"),
        " is the vector of the units' deltas; ", M(r"\odot"), " multiplies entry by entry.",
    ]
    if m.batch:
        mean = m.g.batch_weight != 1
        lead += [
            f" With {spec.batch} samples, ", M(r"\Delta^{[l]}"), f" holds one {'column' if m.columns else 'row'} "
            "per sample: the deltas of that sample's own loss ", M(r"E^{(n)}"), ". The gradient is then ",
            "the mean over the samples, a step of its own." if mean else "the sum over the samples.",
        ]
    blocks = [P(*lead)]
    for l in range(L, 0, -1):
        blocks.append(Section(m.layer_title(l), 2, tuple(layer(m, l))))
    return Section("Backward pass", 1, tuple(blocks), "backward")


def layer(m: MatrixContext, l: int) -> list:
    """The backward pass through layer l: its delta, then the gradient of its weights and biases."""
    delta = output_delta_blocks(m, l) if l == m.spec.layers else hidden_delta_blocks(m, l)
    return delta + gradient_blocks(m, l)


def relu_note(m: MatrixContext, l: int) -> list:
    """Where the ReLU derivative is tested: on the net input, not the output."""
    if not m.g.activation(l).mask:
        return []
    return [P(
        "The ReLU derivative is the mask ", M(rf"[z^{{[{l}]}} > 0]"),
        " on the net input (0 at exactly 0, as in PyTorch). A mask that tests the output for being "
        "negative, a common mistake in a backward pass written by hand, is never true, since ", M(r"a = \max(0, z) \ge 0"),
        ": it masks nothing, and every inactive unit wrongly passes gradient back.",
    )]


def output_delta_blocks(m: MatrixContext, l: int) -> list:
    """delta of the output layer: dE/da from the loss, times the activation's derivative entry by entry.

    The one place the output layer's delta is derived in matrix form.
    """
    spec, run, g, d = m.spec, m.run, m.g, m.d
    act, size = g.activation(l), spec.sizes[l]
    if act.coupled:
        return softmax_delta_blocks(m, l)
    if not m.fits_sample(size):
        return delta_table_blocks(m, l)
    rules = m.s.rules
    dloss = m.elementwise(sp.factor_terms(rules.dloss), m.names(l))
    flat = lambda values: [v for row in values for v in row]
    dE_steps = [[text(dloss)]]
    dE_steps += m.optional(m.dE_da(l), m.entries(l, lambda s, j: d.unit(l, s, j).dE_dout.general))
    dE_steps.append([m.values(run.dE_dout[l], size)])
    if act.passthrough:
        chain = m.display(m.delta(l), [[text(m.dE_da(l))], *dE_steps], flat(run.delta[l]))
        return [P("The identity's derivative is 1, so the delta is the derivative of the loss:"), chain]
    blocks = [P("How the loss changes with the outputs, from the loss formula, entry by entry:"),
              m.display(m.dE_da(l), dE_steps, flat(run.dE_dout[l]))]
    blocks += derivative_blocks(m, l)
    if fn.LOSSES[spec.loss].link == act.name and not act.coupled:
        # the textbook simplification, derived here from the two factors rather than asserted
        simplified = sp.factor(sp.simplify(rules.dloss * act.identity))
        at = lambda s, j: simplified.xreplace({fn.a: g.out(l, s, j), fn.t: g.t(s, j)})
        steps = [[text(rf"{m.dE_da(l)} \odot {act.derivative_latex.format(m.z(l))}")],
                 [text(m.elementwise(simplified, m.names(l)))]]
        steps += m.optional(m.delta(l), m.entries(l, at))
        steps.append([m.values(run.delta[l], size)])
        K = spec.sizes[-1]
        blocks += [P("Their product is the delta. With a sigmoid output and the binary cross-entropy the factors "
                     "cancel entry by entry, leaving the error " +
                     (f"divided by the number of outputs (the loss is their mean, K = {K}):" if K > 1
                      else "itself:")),
                   m.display(m.delta(l), steps, flat(run.delta[l]))]
        return blocks
    return blocks + delta_product(m, l)


def hidden_delta_blocks(m: MatrixContext, l: int) -> list:
    """delta of a hidden layer: every path through the layer above, then the activation's derivative."""
    spec, run = m.spec, m.run
    size, above = spec.sizes[l], spec.sizes[l + 1]
    if not (m.fits_sample(size) and m.fits_sample(above) and m.fits_weight(l + 1)):
        return delta_table_blocks(m, l)
    num = m.num
    WT = pmatrix(transposed(m.grid(m.by_weight(lambda k, j: run.weights[l + 1][k][j], l + 1))))
    deltas = m.values(run.delta[l + 1], above)

    def entry(s, j):
        pairs = [(num(run.weights[l + 1][k][j]), num(run.delta[l + 1][s][k])) for k in range(above)]
        return " + ".join(rf"{paren(w)} \cdot {paren(x)}" if m.columns else rf"{paren(x)} \cdot {paren(w)}"
                          for w, x in pairs)

    Wt = m.T(f"W^{{[{l + 1}]}}")
    steps = [[text(m.times(Wt, m.delta(l + 1)))]]
    steps += m.optional(m.dE_da(l), cat(WT, deltas) if m.columns else cat(deltas, WT))
    steps += m.optional(m.dE_da(l), pmatrix(m.by_sample(entry, size)))
    steps.append([m.values(run.dE_dout[l], size)])
    if m.columns:
        where = ["row j of ", M(Wt), " (column j of ", M(f"W^{{[{l + 1}]}}"), ")"]
    else:
        where = ["column j of ", M(Wt), " (row j of ", M(f"W^{{[{l + 1}]}}"), ")"]
    blocks = [P("Every path through the layer above, all at once: ", *where,
                " holds the weights out of unit j, one for each path, and each is multiplied by the delta at "
                "its end:"),
              m.display(m.dE_da(l), steps, [v for row in run.dE_dout[l] for v in row])]
    return blocks + derivative_blocks(m, l) + delta_product(m, l)


def derivative_blocks(m: MatrixContext, l: int) -> list:
    """f'(z) of layer l in its taught form, each entry with its number put in."""
    act, run = m.g.activation(l), m.run
    fprime = act.derivative_latex.format(m.z(l))
    steps = [[text(m.elementwise(act.identity, m.names(l)))]]
    steps += m.optional(fprime, m.entries(l, lambda s, j: m.d.unit(l, s, j).dout_dnet.general))
    steps.append([m.values(run.dout_dnet[l], m.spec.sizes[l])])
    return relu_note(m, l) + [P("The derivative of the activation, entry by entry:"),
                              m.display(fprime, steps, [v for row in run.dout_dnet[l] for v in row])]


def delta_product(m: MatrixContext, l: int) -> list:
    """delta = dE/da (entry by entry) times f'(z)."""
    act, run, size = m.g.activation(l), m.run, m.spec.sizes[l]
    fprime = act.derivative_latex.format(m.z(l))
    steps = [[text(rf"{m.dE_da(l)} \odot {fprime}")],
             *m.optional(m.delta(l), m.values(run.dE_dout[l], size),
                         cat(text(r"\odot"), m.values(run.dout_dnet[l], size))),
             [m.values(run.delta[l], size)]]
    return [P("Their product, entry by entry, is the delta:"),
            m.display(m.delta(l), steps, [v for row in run.delta[l] for v in row])]


def delta_table_blocks(m: MatrixContext, l: int) -> list:
    """The deltas of a layer too wide for matrices: the formulas, and every entry in a table."""
    run, L = m.run, m.spec.layers
    act = m.g.activation(l)
    fprime = act.derivative_latex.format(rf"z^{{[{l}]}}")
    if l == L and act.passthrough:
        inner = [P(M(rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}}"), " (the identity's derivative is 1), "
                   "with ", M(rf"\partial E/\partial a^{{[{l}]}}"), " from the loss:")]
    elif l == L:
        inner = [P(M(rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}} \odot {fprime}"),
                   ", with ", M(rf"\partial E/\partial a^{{[{l}]}}"), " from the loss:")]
    else:
        inner = [P(M(m.formulas(l)["back"]), " (every path through the layer above), then ",
                   M(rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}} \odot {fprime}"), ".")]
    inner += relu_note(m, l)
    inner += unit_tables(m, l, [
        (rf"\partial E/\partial a^{{[{l}]}}_j", run.dE_dout[l], m.dE_da(l)),
        (act.derivative_latex.format(f"z^{{[{l}]}}_j") if not act.passthrough else f"f'(z^{{[{l}]}}_j)",
         run.dout_dnet[l], act.derivative_latex.format(m.z(l)) if not act.passthrough else f"f'({m.z(l)})"),
        (rf"\delta^{{[{l}]}}_j", run.delta[l], m.delta(l)),
    ], f"The deltas of {m.n.layer_name(l)}")
    return inner
