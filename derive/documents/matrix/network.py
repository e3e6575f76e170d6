"""The matrix form's account of the network: the weight layout in words, the starting matrices, the data."""

from __future__ import annotations

from derive.documents.layout import LINE_WIDTH, pmatrix
from derive.documents.matrix.context import MatrixContext
from derive.documents.matrix.tables import bias_tables, data_tables, weight_tables
from derive.documents.model import Chain, M, P


def layout_blocks(m: MatrixContext) -> list:
    """The weight layout, and with several samples how they are processed together."""
    return layout(m) + batch_note(m)


def layout(m: MatrixContext) -> list:
    """The weight layout in words: which index is the row, each W's shape, what the network computes."""
    spec, sizes = m.spec, m.spec.sizes
    L = spec.layers
    shapes = []
    for l in range(1, L + 1):
        rows, cols = (sizes[l], sizes[l - 1]) if m.columns else (sizes[l - 1], sizes[l])
        shapes += [", " if l > 1 else "", M(rf"W^{{[{l}]}}"), " is ", M(rf"{rows} \times {cols}")]
    j, i = (0, 1) if sizes[0] > 1 else (1, 0) if sizes[1] > 1 else (0, 0)  # an entry off the diagonal
    r, c = (j, i) if m.columns else (i, j)
    example = m.n.weight(1, j, i)
    connects = [
        "For example ", M(rf"{example.latex} = {m.num(m.run.weights[1][j][i])}"),
        f" (row {r + 1}, column {c + 1} of ", M("W^{[1]}"), ") is the weight from input ", M(f"x_{{{i + 1}}}"),
        f" to unit {j + 1} of layer 1.",
    ]
    l, l1 = M("l"), M("l-1")
    if m.columns:
        blocks = [P(
            "The weight matrix ", M("W^{[l]}"), " has one row per unit of layer ", l, " and one column per unit of layer ", l1, " (",
            M(r"\mathrm{out} \times \mathrm{in}"), "): ", *shapes, ". Its entry ", M(r"W^{[l]}_{j,i}"),
            " in row ", M("j"), ", column ", M("i"), " is the weight from unit ", M("i"), " of layer ", l1,
            " to unit ", M("j"), " of layer ", l, ", so row ", M("j"), " holds every weight into unit ", M("j"),
            ". ", *connects,
        )]
        blocks.append(P(
            "The network computes ", M(r"z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]}"), " with column vectors, ",
            M(r"a^{[0]} = x"), ": entry ", M("j"), " of the product is row ", M("j"), " of ", M(r"W^{[l]}"),
            " times the column of inputs. (On a row of inputs the same product is written ",
            M(r"x\, W^{\top} + b"), ".)",
        ))
    else:
        blocks = [P(
            "The weight matrix ", M("W^{[l]}"),
            " has one row per unit of layer ", l1, " and one column per unit of layer ", l, " (",
            M(r"\mathrm{in} \times \mathrm{out}"), "): ", *shapes, ". Its entry ", M(r"W^{[l]}_{i,j}"),
            " in row ", M("i"), ", column ", M("j"), " is the weight from unit ", M("i"), " of layer ", l1,
            " to unit ", M("j"), " of layer ", l, ", so column ", M("j"), " holds every weight into unit ",
            M("j"), ". ", *connects,
        )]
        blocks.append(P(
            "The network computes ", M(r"z^{[l]} = a^{[l-1]}\, W^{[l]} + b^{[l]}"), " with row vectors, ",
            M(r"a^{[0]} = x"), ", as code computes it on a row of inputs: entry ", M("j"), " of the product is the "
            "row of inputs times column ", M("j"), " of ", M(r"W^{[l]}"), ". (With the transpose, shaped ",
            M(r"\mathrm{out} \times \mathrm{in}"), ", the same product is written ", M(r"x\, W^{\top} + b"), ".)",
        ))
    return blocks


def batch_note(m: MatrixContext) -> list:
    """With several samples: one column (row) each, in the matrices X, Z and A."""
    spec, sizes = m.spec, m.spec.sizes
    blocks = []
    if m.batch:
        where = "column" if m.columns else "row"
        shape = rf"{sizes[0]} \times {spec.batch}" if m.columns else rf"{spec.batch} \times {sizes[0]}"
        blocks.append(P(
            f"The {spec.batch} samples are processed together, one {where} each: the inputs form the ",
            M(shape), " matrix ", M("X"), ", the net inputs and outputs of layer ", M("l"), " the matrices ",
            M(r"Z^{[l]}"), " and ", M(r"A^{[l]}"), ", with ", M(r"Z^{[l]} = " + m.times("W^{[l]}", "A^{[l-1]}")
                                                                + r" + b^{[l]}"),
            f"; the bias is added to every {where}.",
        ))
    return blocks


def parameters(m: MatrixContext) -> list:
    """The starting weights and biases, then the inputs and targets: matrices where they fit, else tables."""
    return starting_blocks(m) + (data_blocks(m) or data_tables(m))


def starting_blocks(m: MatrixContext) -> list:
    """The starting weights and biases: as matrices where they fit, else as tables."""
    blocks = []
    for l in range(1, m.spec.layers + 1):
        W = pmatrix(m.grid(m.by_weight(lambda j, i: m.run.weights[l][j][i], l))) if m.fits_weight(l) else None
        b = m.vector_of(lambda j: m.run.biases[l][j], m.spec.sizes[l])
        if W is None or b is None or W.width > LINE_WIDTH - 8 or b.width > LINE_WIDTH - 8:
            blocks += weight_tables(m, f"Starting weights of layer {l}", l, m.run.weights[l], f"W^{{[{l}]}}")
            blocks += bias_tables(m, f"Starting biases of layer {l}", l, m.run.biases[l], f"b^{{[{l}]}}_j",
                                  f"b^{{[{l}]}}")
            continue
        if W.width + b.width + 12 <= LINE_WIDTH:
            rows = ((f"W^{{[{l}]}}", "=", rf"{W.latex}, \qquad b^{{[{l}]}} = {b.latex}"),)
        else:
            rows = ((f"W^{{[{l}]}}", "=", W.latex), (f"b^{{[{l}]}}", "=", b.latex))
        blocks.append(Chain(rows))
    return blocks


def data_blocks(m: MatrixContext) -> list | None:
    """The inputs and targets as a vector (matrix) each; None when they are too big (a table shows them)."""
    spec = m.spec
    x = m.values(m.run.out[0], spec.sizes[0], "inputs")
    t = m.values(spec.targets, spec.sizes[-1], "targets")
    if x is None or t is None or x.width + t.width + 12 > LINE_WIDTH:
        return None
    lead = (f"The inputs and targets, one {'column' if m.columns else 'row'} per sample:" if m.batch
            else "The input and the target:")
    return [P(lead), Chain(((m.a(0), "=", rf"{x.latex}, \qquad {m.target()} = {t.latex}"),))]
