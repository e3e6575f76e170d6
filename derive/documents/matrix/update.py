"""The matrix form's last sections: the chosen parameters' scalar derivations in full, and the update W+ = W - eta dE/dW."""

from __future__ import annotations

from derive.documents import optimizer
from derive.documents.layout import cat, pmatrix, text
from derive.documents.matrix.context import MatrixContext
from derive.documents.matrix.tables import bias_tables, weight_tables
from derive.documents.model import M, P, Section
from derive.documents.scalar import backward as scalar_backward
from derive.documents.scalar.deltas import unit_blocks
from derive.documents.scalar.update import update_chain
from derive.documents.summary import after_step


def derivations(m: MatrixContext) -> list[tuple]:
    """(name, blocks) of each chosen parameter: its unit's delta (the first time), its gradient, its update."""
    done_units, parts = set(), []
    for kind, l, j, i in m.detail:
        name = m.n.weight(l, j, i) if kind == "W" else m.n.bias(l, j)
        inner = []
        for s in range(m.spec.batch):
            if (l, s, j) not in done_units:
                inner += unit_blocks(m, l, s, j)
                done_units.add((l, s, j))
        inner += scalar_backward.gradient_blocks(m, kind, l, j, i)
        if kind == "W" or m.spec.update_biases:
            inner.append(update_chain(m, kind, l, j, i))
        parts.append((name, inner))
    return parts


def details(m: MatrixContext) -> Section:
    """The chosen parameters' derivations in full, one subsection each."""
    spec, run = m.spec, m.run
    hidden = "the hidden layer" if spec.layers == 2 else "each hidden layer"
    inactive = any(run.dout_dnet[l][0][j] == 0 for l in range(1, spec.layers) for j in range(spec.sizes[l]))
    into = "an active and into an inactive unit" if inactive else "its first unit"
    blocks = [P(
        "The same numbers, derived factor by factor for ",
        "a selection of the parameters." if m.options.detail else
        "a few parameters: in the output layer a weight and the bias"
        + (f", and in {hidden} a weight into {into}" if spec.layers > 1 else "") + ".",
    )]
    if not m.detail:
        blocks.append(P("No parameter was chosen."))
    for name, inner in derivations(m):
        blocks.append(Section(f"The parameter {name.text.replace('_', ' ')}", 2, tuple(inner),
                              heading=P("The parameter ", M(name.latex))))
    return Section("Selected derivations in full", 1, tuple(blocks), "details")


def section(m: MatrixContext) -> Section:
    """The update of every layer's weights (and biases), then the loss after the step."""
    if optimizer.active(m.s):  # another optimizer: its own lines (derive.documents.optimizer)
        return optimizer.update_section(m)
    spec = m.spec
    blocks = [P("Each parameter moves against its gradient: ",
                M(r"W^{+} = W - \eta\, \partial E/\partial W"), ", with ",
                M(r"\eta = " + m.num(spec.learning_rate)), ".")]
    for l in range(spec.layers, 0, -1):
        blocks += update_blocks(m, l)
    if not spec.update_biases:
        blocks.append(P("The biases keep their values: they are not updated."))
    blocks.append(after_step(m))
    return Section("Update", 1, tuple(blocks), "update")


def update_blocks(m: MatrixContext, l: int) -> list:
    """W+ = W - eta dE/dW of layer l (and b+), as matrices where they fit, else as tables."""
    spec, run, num = m.spec, m.run, m.num
    size, eta = spec.sizes[l], num(spec.learning_rate)
    weights = None
    if m.fits_weight(l):
        W = lambda values: pmatrix(m.grid(m.by_weight(lambda j, i: values[j][i], l)))
        lhs = f"{{W^{{[{l}]}}}}^{{+}}"
        weights = m.display(lhs, [
            [text(rf"W^{{[{l}]}} - \eta \, \frac{{\partial E}}{{\partial W^{{[{l}]}}}}")],
            *m.optional(lhs, W(run.weights[l]), cat(text(rf"- {eta}"), W(run.grad_W[l]))),
            [W(run.new_weights[l])],
        ], [v for row in run.new_weights[l] for v in row])
    if weights is None:
        blocks = weight_tables(m, f"Weights of layer {l} after the update", l, run.new_weights[l], f"{{W^{{[{l}]}}}}^{{+}}")
    else:
        blocks = [weights]
    if not spec.update_biases:
        return blocks
    b = lambda values: m.vector_of(lambda j: values[j], size)
    lhs = f"{{b^{{[{l}]}}}}^{{+}}"
    biases = m.display(lhs, [
        [text(rf"b^{{[{l}]}} - \eta \, \frac{{\partial E}}{{\partial b^{{[{l}]}}}}")],
        *m.optional(lhs, b(run.biases[l]), cat(text(rf"- {eta}"), b(run.grad_b[l]))),
        [b(run.new_biases[l])],
    ], run.new_biases[l])
    if biases is None:
        return blocks + bias_tables(m, f"Biases of layer {l} after the update", l, run.new_biases[l], f"b^{{[{l}]+}}_j",
                                    f"{{b^{{[{l}]}}}}^{{+}}")
    return blocks + [biases]
