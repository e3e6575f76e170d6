"""The update of every parameter, p+ = p - eta dE/dp, with its numbers."""

from __future__ import annotations

from derive.documents import optimizer
from derive.documents.context import Context
from derive.documents.layout import paren
from derive.documents.model import Chain, M, P, Section
from derive.documents.summary import after_step


def update_chain(ctx: Context, kind, l, j, i=None) -> Chain:
    """p+ = p - eta dE/dp of one parameter, with the numbers put in."""
    grad = ctx.d.gradient(kind, l, j, i)
    eta = ctx.num(ctx.spec.learning_rate)
    p = grad.parameter
    return ctx.chain(
        grad.updated.name.latex, grad.updated.value,
        rf"{p.name.latex} - {ctx.eta} \, {grad.gradient.name.latex}",
        rf"{ctx.num(p.value)} - {eta} \cdot {paren(ctx.num(grad.gradient.value))}",
    )


def update_chains(ctx: Context) -> list[Chain]:
    """p+ = p - eta dE/dp for every parameter that is updated, from the output layer back."""
    if optimizer.active(ctx.s):
        return optimizer.update_chains(ctx)
    spec, chains = ctx.spec, []
    for l in range(spec.layers, 0, -1):
        for j in range(spec.sizes[l]):
            chains += [update_chain(ctx, "W", l, j, i) for i in range(spec.sizes[l - 1])]
            if spec.update_biases:
                chains.append(update_chain(ctx, "b", l, j))
    return chains


def section(ctx: Context) -> Section:
    """The update section: every parameter's new value, then the loss after the step."""
    spec = ctx.spec
    blocks = [P("Each parameter moves against its gradient: ",
                M(rf"p^{{+}} = p - {ctx.eta} \, \partial {ctx.n.loss().latex if ctx.book else 'E'}/\partial p"),
                ", with ", M(rf"{ctx.eta} = " + ctx.num(spec.learning_rate)), ".")]
    blocks += update_chains(ctx)
    if not spec.update_biases:
        blocks.append(P("The biases keep their values: they are not updated."))
    blocks.append(after_step(ctx))
    return Section("Update", 1, tuple(blocks), "update")
