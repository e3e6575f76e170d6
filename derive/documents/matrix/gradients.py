"""The gradient of a layer in matrix form: the outer product of the delta and the layer's input, then the batch mean."""

from __future__ import annotations

from derive.documents.layout import cat, paren, pmatrix, text, transposed
from derive.documents.matrix.context import MatrixContext
from derive.documents.matrix.tables import bias_tables, weight_tables
from derive.documents.model import M, P


def gradient_blocks(m: MatrixContext, l: int) -> list:
    """dE/dW as the outer product of the delta and the layer's input, dE/db; the batch mean as its own step."""
    spec, run, num = m.spec, m.run, m.num
    n_in, size, N = spec.sizes[l - 1], spec.sizes[l], spec.batch
    act = m.g.activation(l)
    prev = m.a(l - 1)
    mean = m.batch and m.g.batch_weight != 1
    outer = ("a ", M(rf"{size} \times {n_in}" if m.columns else rf"{n_in} \times {size}"), " matrix shaped as ",
             M(f"W^{{[{l}]}}"))
    zero = ""
    if act.mask:
        zero = " The rows of inactive units are zero." if m.columns else " The columns of inactive units are zero."
    if not (m.fits_weight(l) and m.fits_sample(n_in) and m.fits_sample(size)):
        return gradient_table_blocks(m, l, outer, zero)
    summed_W = [[sum((run.delta[l][s][j] * run.out[l - 1][s][i] for s in range(1, N)),
                     run.delta[l][0][j] * run.out[l - 1][0][i]) for i in range(n_in)] for j in range(size)]
    summed_b = [sum((run.delta[l][s][j] for s in range(1, N)), run.delta[l][0][j]) for j in range(size)]
    a_T = pmatrix(transposed(m.grid(m.by_sample(lambda s, i: run.out[l - 1][s][i], n_in))))
    deltas = m.values(run.delta[l], size)

    def entry(j, i):
        pairs = [(num(run.delta[l][s][j]), num(run.out[l - 1][s][i])) for s in range(N)]
        return " + ".join(rf"{paren(d)} \cdot {paren(x)}" if m.columns else rf"{paren(x)} \cdot {paren(d)}"
                          for d, x in pairs)

    dW, db = rf"\frac{{\partial E}}{{\partial W^{{[{l}]}}}}", rf"\frac{{\partial E}}{{\partial b^{{[{l}]}}}}"
    sum_W = rf"\sum_n \frac{{\partial E^{{(n)}}}}{{\partial W^{{[{l}]}}}}" if m.batch else dW
    sum_b = rf"\sum_n \frac{{\partial E^{{(n)}}}}{{\partial b^{{[{l}]}}}}" if m.batch else db
    general = (f"{m.delta(l)} {m.T(prev)}" if m.columns else f"{m.T(prev)} {m.delta(l)}")
    steps = [[text(general)], *m.optional(sum_W, cat(deltas, a_T) if m.columns else cat(a_T, deltas))]
    steps += m.optional(sum_W, pmatrix(m.by_weight(entry, l)))
    steps.append([pmatrix(m.grid(m.by_weight(lambda j, i: summed_W[j][i], l)))])
    weights_chain = m.display(sum_W if mean else dW, steps, [v for row in summed_W for v in row])
    if m.batch:
        b_steps = [[text(rf"\sum_n \delta^{{[{l}](n)}}")]]
        b_steps += m.optional(sum_b, m.vector(
            lambda j: " + ".join(paren(num(run.delta[l][s][j])) for s in range(N)), size))
    else:
        b_steps = [[text(m.delta(l))]]
    b_steps.append([m.vector_of(lambda j: summed_b[j], size)])
    bias_chain = m.display(sum_b if mean else db, b_steps, summed_b)
    if weights_chain is None or bias_chain is None:
        return gradient_table_blocks(m, l, outer, zero)
    where = "(j, i)" if m.columns else "(i, j)"
    single = "x" if l == 1 else f"a^{{[{l - 1}]}}"
    product = (rf"\delta^{{[{l}]}}_j \, {single}_i" if m.columns else rf"{single}_i \, \delta^{{[{l}]}}_j")
    blocks = [P(
        "The gradient of the weights is an outer product, the delta times the layer's input: entry ", M(where),
        " is ", M(product),
        ", summed over the samples by the matrix product" if m.batch else "", ", ", *outer, f".{zero}",
        " The gradient of the biases is the delta" + (", summed over the samples:" if m.batch else ":"),
    ), weights_chain, bias_chain]
    if mean:
        N_tex = m.tex(m.g.batch_weight)
        blocks.append(P(f"The loss is the mean over the {N} samples, so the gradient is the mean of theirs:"))
        blocks.append(m.display(dW, [
            [text(rf"{N_tex} {sum_W}")],
            *m.optional(dW, cat(text(N_tex), pmatrix(m.grid(m.by_weight(lambda j, i: summed_W[j][i], l))))),
            [pmatrix(m.grid(m.by_weight(lambda j, i: run.grad_W[l][j][i], l)))],
        ], [v for row in run.grad_W[l] for v in row]))
        blocks.append(m.display(db, [
            [text(rf"{N_tex} {sum_b}")],
            *m.optional(db, cat(text(N_tex), m.vector_of(lambda j: summed_b[j], size))),
            [m.vector_of(lambda j: run.grad_b[l][j], size)],
        ], run.grad_b[l]))
    return blocks


def gradient_table_blocks(m: MatrixContext, l: int, outer: tuple, zero: str) -> list:
    """The gradient of a layer too wide for matrices: the formulas, and every entry in tables."""
    spec, run = m.spec, m.run
    prev = "x" if l == 1 else f"a^{{[{l - 1}]}}"
    inner = [P(M(m.formulas(l)["grad"]), " and ",
               M(rf"\partial E/\partial b^{{[{l}]}} = " + (r"\tfrac{1}{N}\sum_n " if spec.batch > 1 and m.g.batch_weight != 1 else "")
                 + rf"\delta^{{[{l}]}}"), ":")]
    inner.append(P(
        "This is an outer product: entry ", M("(i, j)") if spec.weight_layout == "in_out" else M("(j, i)"),
        " is ", M(rf"{prev}_i \, \delta^{{[{l}]}}_j"), (", summed over the samples" if spec.batch > 1 else ""),
        ", ", *outer, f".{zero}",
    ))
    inner += weight_tables(m, f"Gradient with respect to the weights of layer {l}", l, run.grad_W[l],
                           rf"\frac{{\partial E}}{{\partial W^{{[{l}]}}}}")
    inner += bias_tables(m, f"Gradient with respect to the biases of layer {l}", l, run.grad_b[l],
                         rf"\partial E/\partial b^{{[{l}]}}_j", rf"\frac{{\partial E}}{{\partial b^{{[{l}]}}}}")
    return inner
