"""The backward pass at one unit: how the loss changes with its output, the activation's derivative, the delta.

A softmax unit's delta sums over every output of its layer (derive.core.derivation's
coupling terms), and SymPy's reduction to out - t is shown where it reduces.
"""

from __future__ import annotations

import sympy as sp

from derive.core import functions as fn
from derive.core.graph import product
from derive.documents.context import Context
from derive.documents.layout import paren
from derive.documents.model import Chain, M, P
from derive.documents.scalar.forward import layer_vector, squared_error


def unit_blocks(ctx: Context, l: int, s: int, j: int) -> list:
    """dE/dout, dout/dnet and delta of one unit."""
    n, g = ctx.n, ctx.g
    u = ctx.d.unit(l, s, j)
    if u.coupling:
        return coupled_blocks(ctx, u)
    out_name = n.out(l, s, j)
    blocks = []
    if l == ctx.spec.layers:
        blocks.append(P(
            "How the loss changes with this output: the derivative of ", M(n.sample_loss(s).latex),
            " with respect to ", M(out_name.latex), ", in which only this output's error term depends on it:",
        ))
        blocks.append(ctx.chain(u.dE_dout.name.latex, u.dE_dout.value, *outer_and_inner(ctx, s, j, u.dE_dout.general),
                                ctx.tex(u.dE_dout.general), ctx.nums(u.dE_dout.general)))
    elif len(u.paths) == 1:
        p = u.paths[0]
        blocks.append(P(M(out_name.latex), f" feeds the single unit of {n.layer_name(l + 1)}; along that path, ",
                        M(p.dnet_dout.name.latex), " is the weight of the connection:"))
        blocks.append(ctx.chain(
            u.dE_dout.name.latex, u.dE_dout.value,
            rf"{p.delta.name.latex} \cdot {p.dnet_dout.name.latex}",
            ctx.tex(u.dE_dout.general), ctx.nums(u.dE_dout.general),
        ))
    else:
        above = ", ".join(n.unit(l + 1, k).latex if n.units else f"{k + 1}" for k in range(ctx.spec.sizes[l + 1]))
        blocks.append(P(
            M(out_name.latex), f" feeds every unit of {n.layer_name(l + 1)} (", M(above),
            "), so its derivative is the sum over those paths; along each path, ",
            M(r"\partial \mathrm{net}/\partial \mathrm{out}") if n.units else M(r"\partial z/\partial a"),
            " is the weight of the connection:",
        ))
        for p in u.paths:
            factors = rf"{p.delta.name.latex} \cdot {p.dnet_dout.name.latex}"
            general = ctx.tex(product(p.delta.general, p.dnet_dout.general))
            numbers = ctx.nums(product(p.delta.general, p.dnet_dout.general))
            if p.name.latex == general:  # below a softmax a path is named by its product: not said twice
                blocks.append(ctx.chain(factors, p.value, general, numbers))
            else:
                blocks.append(ctx.chain(p.name.latex, p.value, factors, general, numbers))
        # the sum over paths, TERMS_PER_LINE terms to a line so that wide layers fit the page
        lhs = u.dE_dout.name.latex
        terms = [product(p.delta.general, p.dnet_dout.general) for p in u.paths]
        names, general = [p.name.latex for p in u.paths], [ctx.tex(t) for t in terms]
        # the blog's path names first (below a softmax the names are the products themselves)
        rows = ctx.sum_rows(lhs, "=", names, True) if n.units and names != general else []
        rows += ctx.sum_rows(lhs, "=", general, not rows)
        # the paths' values, as computed above (the blog adds them, it does not multiply again)
        values = ctx.sum_rows(lhs, "=", [ctx.num(p.value) for p in u.paths], False)
        rows += [(a, r, m.replace("+ -", "- ")) for a, r, m in values]
        rows.append(("", ctx.rel(u.dE_dout.value), ctx.num(u.dE_dout.value)))
        blocks.append(Chain(tuple(rows)))
    act = g.activation(l)
    net = g.latex[g.net(l, s, j)]
    blocks.append(P("The derivative of the activation:"))
    blocks.append(ctx.chain(
        u.dout_dnet.name.latex, u.dout_dnet.value, act.derivative_latex.format(net),
        ctx.tex(u.dout_dnet.general), ctx.nums(u.dout_dnet.general),
    ))
    if l == ctx.spec.layers and fn.LOSSES[ctx.spec.loss].link == act.name and not act.coupled:
        # the textbook simplification, derived here from the two factors rather than asserted

        simplified = sp.factor(sp.simplify(u.dE_dout.general * u.dout_dnet.general))
        K = ctx.spec.sizes[-1]
        blocks.append(P("Their product is the unit's delta. With a sigmoid output and the binary cross-entropy "
                        "the factors cancel, leaving the error ",
                        *(("divided by the number of outputs (the loss is their mean, ", M(f"K = {K}"), "):")
                          if K > 1 else ("itself:",))))
        blocks.append(ctx.chain(
            u.delta.name.latex, u.delta.value,
            rf"{u.dE_dout.name.latex} \cdot {u.dout_dnet.name.latex}",
            rf"\left({ctx.tex(u.dE_dout.general)}\right) {ctx.tex(u.dout_dnet.general)}",
            ctx.tex(simplified), ctx.nums(simplified),
        ))
        return blocks
    blocks.append(P("Their product is the unit's delta, used by every weight into it:"))
    blocks.append(ctx.chain(
        u.delta.name.latex, u.delta.value,
        rf"{u.dE_dout.name.latex} \cdot {u.dout_dnet.name.latex}",
        rf"{ctx.num(u.dE_dout.value)} \cdot {paren(ctx.num(u.dout_dnet.value))}",
    ))
    return blocks


def outer_and_inner(ctx: Context, s: int, k: int, derivative) -> tuple:
    """The derivative of c (t - out)^2 by the chain rule: 2 c (t - out) times the inner derivative -1.

    The step students get wrong is the sign of the inner derivative; it is shown, and kept only
    where it equals the derivative SymPy computed.
    """
    written = squared_error(ctx, s, k)
    if written is None:
        return ()
    c, first, second, _, _, _ = written
    out = ctx.g.out(ctx.spec.layers, s, k)
    inner = -1 if second == out else 1
    if sp.simplify(2 * c * (first - second) * inner - derivative) != 0:
        return ()
    half = "" if c == 1 else (r"\tfrac{1}{2}" if c == sp.Rational(1, 2) else rf"\tfrac{{{c.p}}}{{{c.q}}}")
    factor = rf"2 \cdot {half}" if half else "2"
    tail = r" \cdot (-1)" if inner == -1 else r" \cdot 1"
    return (rf"{factor} \left({ctx.tex(first)} - {ctx.tex(second)}\right){tail}",)


def softmax_blocks(ctx: Context, l: int, s: int) -> list:
    """The factors every softmax unit's delta shares: dE/dout_k for each output, the Jacobian d out_k/d net_j."""
    n, spec = ctx.n, ctx.spec
    K = spec.sizes[l]
    units = [ctx.d.unit(l, s, j) for j in range(K)]
    blocks = [P(
        *((f"Sample {s + 1}. ",) if spec.batch > 1 else ()),
        "How the loss changes with each output: the derivative of ", M(n.sample_loss(s).latex),
        " with respect to each output, in which only that output's term depends on it:",
    )]
    for k in range(K):
        e = units[0].coupling[k].dE_dout
        blocks.append(ctx.chain(e.name.latex, e.value, ctx.tex(e.general), ctx.nums(e.general)))
    blocks.append(P(
        "The softmax couples the outputs: each output depends on every net input of the layer. The derivative "
        "of the softmax is the Jacobian ", M(r"\partial \mathrm{out}_k/\partial \mathrm{net}_j = "
                                             r"\mathrm{out}_k ([k = j] - \mathrm{out}_j)" if n.units else
                                             rf"\partial a^{{[{l}]}}_k/\partial z^{{[{l}]}}_j = "
                                             rf"a^{{[{l}]}}_k ([k = j] - a^{{[{l}]}}_j)"),
        ", where ", M("[k = j]"), " is 1 when ", M("k = j"), " and 0 otherwise: ",
        M(r"\mathrm{out}_k (1 - \mathrm{out}_k)" if n.units else rf"a^{{[{l}]}}_k (1 - a^{{[{l}]}}_k)"),
        " on the diagonal and ", M(r"-\mathrm{out}_k\, \mathrm{out}_j" if n.units else rf"-a^{{[{l}]}}_k a^{{[{l}]}}_j"),
        " off it, so the matrix is symmetric.",
    ))
    for j in range(K):
        for k in range(j, K):
            d = units[j].coupling[k].dout_dnet
            lhs = d.name.latex
            if k != j:  # the Jacobian is symmetric: one chain for both entries
                lhs = rf"{units[k].coupling[j].dout_dnet.name.latex} = {lhs}"
            blocks.append(ctx.chain(lhs, d.value, ctx.tex(d.general), ctx.nums(d.general)))
    rows = r" \\ ".join(" & ".join(ctx.num(ctx.run.jacobian[l][s][k][j]) for j in range(K)) for k in range(K))
    top = r"\mathbf{out}" if n.units else rf"\mathbf{{a}}^{{[{l}]}}"
    jac = rf"\frac{{\partial {top}}}{{\partial {layer_vector(ctx, l, s)}}}"
    blocks.append(P("As a matrix (row ", M("k"), ", column ", M("j"),
                    "); each column sums to 0, since the outputs always sum to 1:"))
    blocks.append(Chain(((jac, r"\approx" if not ctx.s.exact else "=", rf"\begin{{pmatrix}} {rows} \end{{pmatrix}}"),)))
    return blocks


def coupled_blocks(ctx: Context, u) -> list:
    """delta of a softmax unit: the sum over every output, reduced where SymPy reduces it."""
    n = ctx.n
    l, s, j = u.layer, u.sample, u.unit
    blocks = [P(
        "Every output depends on ", M(n.net(l, s, j).latex), ", so its delta sums the paths through all "
        "of them, each the output's derivative times its entry of the Jacobian:",
    )]
    names = [rf"{c.dE_dout.name.latex} {c.dout_dnet.name.latex}" for c in u.coupling]
    general = [f"{paren(ctx.tex(c.dE_dout.general))} {paren(ctx.tex(c.dout_dnet.general))}" for c in u.coupling]
    numbers = [rf"{paren(ctx.num(c.dE_dout.value))} \cdot {paren(ctx.num(c.dout_dnet.value))}" for c in u.coupling]
    lhs = u.delta.name.latex
    # two products of fractions to a line, so that the sum fits the page
    rows = ctx.sum_rows(lhs, "=", names, True, 2) + ctx.sum_rows(lhs, "=", general, False, 2)
    if u.simplified:
        cancelled, collected, final = u.simplified
        blocks.append(Chain(tuple(rows)))
        blocks.append(P(
            "In each product the output in the denominator cancels against the same output in the "
            "Jacobian entry. Collected in ", M(n.out(l, s, j).latex), ", what multiplies it is the sum of the "
            "sample's targets, which is 1 (", M(" + ".join(n.target(s, k).latex for k in range(len(u.coupling))) + " = 1"),
            ", one-hot or class probabilities). The delta is the output minus its target, the textbook result "
            "for softmax with cross-entropy:",
        ))
        blocks.append(ctx.chain(lhs, u.delta.value, ctx.tex(cancelled), ctx.tex(collected), ctx.tex(final),
                                ctx.nums(final)))
        blocks.append(P("The Jacobian's numbers give the same value:"))
        numbered = ctx.sum_rows(lhs, "=", numbers, True, 2)
        numbered.append(("", ctx.rel(u.delta.value), ctx.num(u.delta.value)))
        blocks.append(Chain(tuple(numbered)))
        return blocks
    rows += ctx.sum_rows(lhs, "=", numbers, False, 2)
    rows.append(("", ctx.rel(u.delta.value), ctx.num(u.delta.value)))
    blocks.append(Chain(tuple(rows)))
    return blocks
