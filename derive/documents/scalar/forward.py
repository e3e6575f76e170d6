"""The forward pass and the loss, unit by unit: each net input as its weighted sum, each output, each error."""

from __future__ import annotations

import sympy as sp

from derive.core import functions as fn
from derive.core.graph import product, total
from derive.documents.context import Context
from derive.documents.layout import LINE_WIDTH, width
from derive.documents.model import Chain, P, Section


def net_chain(ctx: Context, l: int, s: int, j: int, first: int = 0) -> Chain:
    """net = w x + ... + b with the numbers put in, TERMS_PER_LINE terms to a line.

    With ``first``, a long sum shows only its first products, an ellipsis and its last product.
    """
    g = ctx.g
    lhs = g.latex[g.net(l, s, j)]
    n_in = ctx.spec.sizes[l - 1]
    shown = list(range(n_in)) if not first or n_in <= first + 1 else [*range(first), None, n_in - 1]
    general = [r"\cdots" if i is None else ctx.tex(product(g.W(l, j, i), g.out(l - 1, s, i))) for i in shown]
    general.append(ctx.tex(g.b(l, j)))
    numbers = [r"\cdots" if i is None else ctx.nums(product(g.W(l, j, i), g.out(l - 1, s, i))) for i in shown]
    numbers.append(ctx.nums(g.b(l, j)))
    value = ctx.run.net[l][s][j]
    rows = ctx.sum_rows(lhs, "=", general, True) + ctx.sum_rows(lhs, "=", numbers, False)
    final = ctx.num(value)
    rows.append(("", ctx.rel(value), final))
    return Chain(tuple(rows))


def out_chain(ctx: Context, l: int, s: int, j: int) -> Chain:
    """out = f(net), by name, by formula and with the number put in."""
    g = ctx.g
    act = ctx.g.activation(l)
    net = g.net(l, s, j)
    lhs = g.latex[g.out(l, s, j)]
    definition = g.out_definition(l, s, j)
    named = act.latex.format(g.latex[net])
    if act.coupled:
        named = rf"\operatorname{{softmax}}({layer_vector(ctx, l, s)})_{{{j + 1}}}"
    return ctx.chain(lhs, ctx.run.out[l][s][j], named, ctx.tex(definition), ctx.nums(definition))


def layer_vector(ctx: Context, l: int, s: int) -> str:
    """The vector of a layer's net inputs, for softmax(net)_j."""
    vector = r"\mathbf{net}" if ctx.n.units else rf"\mathbf{{z}}^{{[{l}]}}"
    return vector + (f"^{{({s + 1})}}" if ctx.spec.batch > 1 and ctx.n.units else "")


def section(ctx: Context) -> Section:
    """The forward pass, layer by layer and sample by sample."""
    blocks = []
    spec = ctx.spec
    for s in range(spec.batch):
        for l in range(1, spec.layers + 1):
            inner = []
            if ctx.g.activation(l).coupled:
                # each softmax output needs every net input of its layer
                inner += [net_chain(ctx, l, s, j) for j in range(spec.sizes[l])]
                inner.append(P("The softmax turns the net inputs into probabilities that sum to 1:"))
                inner += [out_chain(ctx, l, s, j) for j in range(spec.sizes[l])]
            for j in range(spec.sizes[l] if not inner else 0):
                inner.append(net_chain(ctx, l, s, j))
                inner.append(out_chain(ctx, l, s, j))
            blocks.append(Section(f"{ctx.layer_title(l)}{ctx.sample_note(s)}", 2, tuple(inner)))
    intro = P("Each unit's net input is the weighted sum of the outputs of the layer below plus its bias; "
              "its output is the activation of the net input. Layer by layer, from the inputs up:")
    return Section("Forward pass", 1, (intro, *blocks), "forward")


def squared_error(ctx: Context, s: int, k: int, general=None):
    """A squared error as a lecturer writes it, c (t - out)^2, in names and in numbers; None for another loss.

    SymPy prints (t - out)^2/2; the loss formula writes the half in front, and so does every line.
    """
    g, L = ctx.g, ctx.spec.layers
    rule = fn.LOSSES[ctx.spec.loss]
    if rule.squared is None:
        return None
    c = g.output_weight * rule.squared.coefficient
    t, out = g.t(s, k), g.out(L, s, k)
    first, second = (t, out) if rule.squared.target_first else (out, t)
    if sp.simplify(c * (first - second) ** 2 - g.error_definition(s, k)) != 0:
        return None
    coef = "" if c == 1 else rf"\tfrac{{{c.p}}}{{{c.q}}} "
    return (c, first, second, coef,
            rf"{coef}\left({ctx.tex(first)} - {ctx.tex(second)}\right)^{{2}}",
            rf"{coef}\left({ctx.nums(first)} - {ctx.nums(second)}\right)^{{2}}")


def loss_section(ctx: Context) -> Section:
    """The loss section."""
    return Section("Loss", 1, tuple(loss_blocks(ctx)), "loss")


def loss_blocks(ctx: Context) -> list:
    """Each output's error term, each sample's loss, and the loss of the batch."""
    spec, g, n, r = ctx.spec, ctx.g, ctx.n, ctx.run
    blocks = [P("Each output contributes its error term; the loss is their total.")]
    for s in range(spec.batch):
        for k in range(spec.sizes[-1]):
            definition = g.error_definition(s, k)
            written = squared_error(ctx, s, k)
            general, numbers = written[4:] if written else (ctx.tex(definition), ctx.nums(definition))
            blocks.append(ctx.chain(g.latex[g.error(s, k)], r.errors[s][k], general, numbers))
        terms = [g.error(s, k) for k in range(spec.sizes[-1])]
        lhs, numbers = g.latex[g.sample_loss(s)], [ctx.nums(t) for t in terms]
        if width(" + ".join(numbers)) + width(lhs) + 4 > LINE_WIDTH:  # many outputs: the sum over several lines
            blocks.append(Chain(((lhs, "=", ctx.tex(total(*terms))), *ctx.sum_rows(lhs, "=", numbers, False),
                                 ("", ctx.rel(r.sample_losses[s]), ctx.num(r.sample_losses[s])))))
            continue
        blocks.append(ctx.chain(lhs, r.sample_losses[s], ctx.tex(total(*terms)), ctx.nums(total(*terms))))
    if spec.batch > 1:
        weight = g.batch_weight
        parts = total(*(g.sample_loss(s) for s in range(spec.batch)))
        general = ctx.tex(product(weight, parts)) if weight != 1 else ctx.tex(parts)
        numbers = (rf"{ctx.tex(weight)} \left({ctx.nums(parts)}\right)" if weight != 1 else ctx.nums(parts))
        blocks.append(P("The loss of the batch is the " + ("mean" if weight != 1 else "sum") + " over the samples:"))
        blocks.append(ctx.chain(n.loss().latex, r.loss, general, numbers))
    return blocks
