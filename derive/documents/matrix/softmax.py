"""The delta of a softmax layer in matrix form: its Jacobian times the loss's derivative (a - t with the cross-entropy)."""

from __future__ import annotations

import sympy as sp

from derive.core import functions as fn
from derive.documents.layout import COLUMNS_PER_TABLE, MATRIX_ROWS, cat, pmatrix, text
from derive.documents.matrix.context import MatrixContext
from derive.documents.matrix.tables import unit_tables
from derive.documents.model import M, P


def softmax_delta_blocks(m: MatrixContext, l: int) -> list:
    """delta of a softmax layer: the Jacobian diag(a) - a a^T times dE/da; with the cross-entropy, a - t."""
    spec, run, K, N = m.spec, m.run, m.spec.sizes[l], m.spec.batch
    flat = lambda values: [v for row in values for v in row]
    a, t = m.a(l), m.target()
    J = rf"\frac{{\partial a^{{[{l}]}}}}{{\partial z^{{[{l}]}}}}"
    blocks = [P(
        "The softmax couples the outputs: each depends on every net input of the layer. Its Jacobian is ",
        M(rf"{J} = \operatorname{{diag}}(a^{{[{l}]}}) - a^{{[{l}]}} (a^{{[{l}]}})^{{\top}}"),
        " (entry (k, j): ", M(r"a_k ([k = j] - a_j)"), ", where ", M("[k = j]"), " is 1 on the diagonal and 0 off it), a symmetric matrix, so ",
        M(rf"\delta^{{[{l}]}} = {J}\, \partial E/\partial a^{{[{l}]}}" if m.columns
          else rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}}\, {J}"),
        (" for each sample" if N > 1 else ""), ": every output's derivative, weighted by how that output "
        "moves with each net input.",
    )]
    fits = m.fits_sample(K) and K <= MATRIX_ROWS and K <= COLUMNS_PER_TABLE
    jacobians = [pmatrix(m.grid([[run.jacobian[l][s][k][j] for j in range(K)] for k in range(K)])) for s in range(N)]
    if fn.cancels(fn.LOSSES[spec.loss], m.g.activation(l)):
        if fits:
            for s in range(N):
                note = rf"^{{({s + 1})}}" if N > 1 else ""
                chain = m.display(J, [[jacobians[s]]], flat(run.jacobian[l][s]))
                if chain is not None:
                    blocks += [P(f"The Jacobian of sample {s + 1}:" if N > 1 else "The Jacobian:"), chain]
        blocks.append(P(
            "With the cross-entropy, ", M(r"\partial E/\partial a = -t \oslash a"), " entry by entry, and the "
            "product reduces to ", M(r"a \sum_k t_k - t = a - t"), ", since the targets of a sample sum to 1 "
            "(SymPy's reduction, shown for each unit in the derivations below):",
        ))
        steps = [[text(f"{a} - {t}")],
                 *m.optional(m.delta(l), m.values(run.out[l], K), text("-"),
                             m.values(m.s.rules.lift(spec.targets), K)),
                 [m.values(run.delta[l], K)]]
        chain = m.display(m.delta(l), steps, flat(run.delta[l])) if fits else None
        if chain is None:
            return blocks + softmax_table_blocks(m, l)
        return blocks + [chain]
    if not fits:
        return blocks + softmax_table_blocks(m, l)
    rules = m.s.rules
    dE_steps = [[text(m.elementwise(sp.factor_terms(rules.dloss), m.names(l)))],
                [m.values(run.dE_dout[l], K)]]
    blocks += [P("How the loss changes with the outputs, from the loss formula, entry by entry:"),
               m.display(m.dE_da(l), dE_steps, flat(run.dE_dout[l]))]
    for s in range(N):
        jac = jacobians[s]
        upstream = pmatrix(m.grid([[v] for v in run.dE_dout[l][s]] if m.columns else [list(run.dE_dout[l][s])]))
        result = pmatrix(m.grid([[v] for v in run.delta[l][s]] if m.columns else [list(run.delta[l][s])]))
        note = rf"^{{({s + 1})}}" if N > 1 else ""
        lhs = rf"\delta^{{[{l}]{note}}}" if N > 1 else m.delta(l)
        product = cat(jac, upstream) if m.columns else cat(upstream, jac)
        chain = m.display(lhs, [[text(rf"{J} \cdot \partial E{note}/\partial a^{{[{l}]}}")],
                                   [product], [result]], run.delta[l][s])
        if chain is None:
            return blocks + softmax_table_blocks(m, l)
        blocks += [P(f"Sample {s + 1}: the Jacobian with its numbers, times the derivative of the loss:"
                     if N > 1 else "The Jacobian with its numbers, times the derivative of the loss:"), chain]
    return blocks


def softmax_table_blocks(m: MatrixContext, l: int) -> list:
    """A softmax layer too wide for matrices: each unit's delta in a table, beside what it is made of."""
    run, spec = m.run, m.spec
    columns = [(rf"\partial E/\partial a^{{[{l}]}}_j", run.dE_dout[l], m.dE_da(l)),
               (rf"a^{{[{l}]}}_j", run.out[l], m.a(l))]
    cancels = fn.cancels(fn.LOSSES[spec.loss], m.g.activation(l))
    if cancels:
        columns.append(("t_j", m.s.rules.lift(spec.targets), m.target()))
    columns.append((rf"\delta^{{[{l}]}}_j", run.delta[l], m.delta(l)))
    formula = (rf"\delta^{{[{l}]}}_j = a^{{[{l}]}}_j - t_j" if cancels else
               rf"\delta^{{[{l}]}}_j = \sum_k \frac{{\partial E}}{{\partial a^{{[{l}]}}_k}}\, a^{{[{l}]}}_k "
               rf"(\delta_{{kj}} - a^{{[{l}]}}_j)")
    return [P("Unit by unit: ", M(formula), ".")] + unit_tables(m, l, columns, f"The deltas of {m.n.layer_name(l)}")
