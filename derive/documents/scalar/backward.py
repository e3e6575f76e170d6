"""Each parameter's gradient as its unit's delta times the input it multiplies, and the backward pass section."""

from __future__ import annotations

from derive.documents.context import TERMS_PER_LINE, Context
from derive.documents.layout import paren
from derive.documents.model import Chain, M, P, Section
from derive.documents.scalar.deltas import softmax_blocks, unit_blocks


def gradient_blocks(ctx: Context, kind: str, l: int, j: int, i=None) -> list:
    """dE/d parameter as the product of the chain-rule factors, sample by sample."""
    n = ctx.n
    grad = ctx.d.gradient(kind, l, j, i)
    blocks = []
    pname = grad.parameter.name
    if len(grad.contributions) == 1:
        c = grad.contributions[0]
        u = ctx.d.unit(l, c.sample, j)
        factors = rf"{u.dE_dout.name.latex} \cdot {u.dout_dnet.name.latex} \cdot {c.dnet_dparam.name.latex}"
        if u.coupling:  # a softmax unit's delta is a sum over the outputs, not one product
            factors = rf"{c.delta.name.latex} \cdot {c.dnet_dparam.name.latex}"
        if kind == "b":
            blocks.append(ctx.chain(grad.gradient.name.latex, grad.gradient.value, factors,
                                    rf"{c.delta.name.latex} \cdot 1", c.delta.name.latex))
            return blocks
        blocks.append(ctx.chain(
            grad.gradient.name.latex, grad.gradient.value, factors,
            rf"{c.delta.name.latex} \cdot {ctx.tex(c.dnet_dparam.general)}",
            rf"{ctx.num(c.delta.value)} \cdot {paren(ctx.num(c.dnet_dparam.value))}",
        ))
        return blocks
    for c in grad.contributions:
        top = n.derivative(n.sample_loss(c.sample), pname)
        blocks.append(ctx.chain(
            top.latex, c.value, rf"{c.delta.name.latex} \cdot {ctx.tex(c.dnet_dparam.general)}",
            rf"{ctx.num(c.delta.value)} \cdot {paren(ctx.num(c.dnet_dparam.value))}",
        ))
    weight = ctx.g.batch_weight
    if len(grad.contributions) > TERMS_PER_LINE:  # many samples: the sum TERMS_PER_LINE terms to a line
        parts = [n.derivative(n.sample_loss(c.sample), pname).latex for c in grad.contributions]
        numbers = [paren(ctx.num(c.value)) for c in grad.contributions]
        if weight != 1:
            for terms in (parts, numbers):
                terms[0], terms[-1] = rf"{ctx.tex(weight)} \bigl({terms[0]}", rf"{terms[-1]} \bigr)"
        lhs, value = grad.gradient.name.latex, grad.gradient.value
        rows = ctx.sum_rows(lhs, "=", parts, True) + ctx.sum_rows(lhs, "=", numbers, False)
        blocks.append(Chain((*rows, ("", ctx.rel(value), ctx.num(value)))))
        return blocks
    parts = " + ".join(n.derivative(n.sample_loss(c.sample), pname).latex for c in grad.contributions)
    numbers = " + ".join(paren(ctx.num(c.value)) for c in grad.contributions)
    if weight != 1:
        parts, numbers = rf"{ctx.tex(weight)} \left({parts}\right)", rf"{ctx.tex(weight)} \left({numbers}\right)"
    blocks.append(ctx.chain(grad.gradient.name.latex, grad.gradient.value, parts, numbers))
    return blocks


def section(ctx: Context) -> Section:
    """The chain rule from the loss back to every weight and bias, unit by unit."""
    spec, n, g = ctx.spec, ctx.n, ctx.g
    intro = P(
        "The chain rule, from the loss back to every weight and bias. For each unit, ",
        M(r"\delta = \partial E/\partial \mathrm{net}") if n.units else M(r"\delta = \partial E/\partial z"),
        " is derived once and named; each weight's gradient is then its unit's delta times the input "
        "the weight multiplies (for a bias, times 1).",
    )
    blocks = [intro]
    for l in range(spec.layers, 0, -1):
        units = []
        if g.activation(l).coupled:
            units.append(Section("The outputs and the softmax Jacobian", 3, tuple(
                block for s in range(spec.batch) for block in softmax_blocks(ctx, l, s))))
        for j in range(spec.sizes[l]):
            unit = []
            for s in range(spec.batch):
                if spec.batch > 1:  # each sample's derivation under a heading of its own
                    unit.append(Section(f"Sample {s + 1}", 4, tuple(unit_blocks(ctx, l, s, j))))
                else:
                    unit += unit_blocks(ctx, l, s, j)
            net0 = g.latex[g.net(l, 0, j)]
            unit.append(P(
                "The weights into this unit. Its net input ", M(net0),
                " is a weighted sum, so its derivative with respect to a weight is the input that weight "
                "multiplies, and with respect to the bias it is 1:",
            ))
            for i in range(spec.sizes[l - 1]):
                unit += gradient_blocks(ctx, "W", l, j, i)
            unit += gradient_blocks(ctx, "b", l, j)
            title = f"Unit {n.unit(l, j).text}" if n.units else f"Unit {j + 1} of layer {l}"
            heading = P("Unit ", M(n.unit(l, j).latex)) if n.units else None
            units.append(Section(title, 3, tuple(unit), heading=heading))
        blocks.append(Section(ctx.layer_title(l), 2, tuple(units)))
    return Section("Backward pass", 1, tuple(blocks), "backward")
