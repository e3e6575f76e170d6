"""After the derivation: the loss after the step, the table of every gradient, the loss over the steps."""

from __future__ import annotations

from derive.documents.context import Context
from derive.documents.model import CHECKED_TITLE, M, P, Plot, Section, Table, downsample


def after_step(ctx: Context):
    """The loss after the update: down, or up when the step overshoots."""
    h = ctx.s.history
    E = ctx.n.loss().latex
    if h[1] < h[0]:
        return P("With the updated parameters the loss is ", M(rf"{E} {ctx.rel(h[1])} {ctx.num(h[1])}"),
                 ", down from ", M(ctx.num(h[0])), ".")
    return P("With the updated parameters the loss is ", M(rf"{E} {ctx.rel(h[1])} {ctx.num(h[1])}"),
             ", up from ", M(ctx.num(h[0])), ": the step overshoots, the learning rate is too large for this "
             "network.")


def summary(ctx: Context) -> Section | None:
    """Every gradient and updated parameter in one table; None for a network too large for one."""
    spec, n, r = ctx.spec, ctx.n, ctx.run
    rows = []
    for l in range(spec.layers, 0, -1):
        for j in range(spec.sizes[l]):
            for i in list(range(spec.sizes[l - 1])) + [None]:
                name = n.weight(l, j, i) if i is not None else n.bias(l, j)
                value = r.weights[l][j][i] if i is not None else r.biases[l][j]
                grad = r.grad_W[l][j][i] if i is not None else r.grad_b[l][j]
                new = r.new_weights[l][j][i] if i is not None else r.new_biases[l][j]
                kept = i is None and not spec.update_biases
                rows.append((name.latex, ctx.num(value), ctx.num(grad),
                             rf"{ctx.num(new)}\ \text{{(kept)}}" if kept else ctx.num(new)))
    if len(rows) > 60:
        return None
    return Section("Summary", 1, (Table(("parameter", "value", M(r"\partial E/\partial p"), "updated"), tuple(rows),
                                        ("math",) * 4, "lrrr", "Every gradient and updated parameter"),), "summary")


def checked(ctx: Context) -> Section:
    """The appendix on how the numbers were checked: the chain rule against the direct derivative."""
    method = ctx.s.verification.method
    return Section(CHECKED_TITLE, 1, (P(
        method[0].upper() + method[1:], "; every chain-rule factor in the text was recomputed from its formula and "
        "agrees with the backward sweep, the same computation done once for all units."),), "checked", appendix=True)


def history(ctx: Context) -> Section:
    """The loss before the first step and after each step, as a table and a plot."""
    h = ctx.s.history
    rows = tuple((str(k), ctx.num(v)) for k, v in enumerate(h))
    if len(rows) > 25:  # a long run: the first and last steps and every tenth of the way
        keep = sorted({0, 1, 2, len(h) - 2, len(h) - 1} | {round(len(h) * f / 10) for f in range(1, 10)})
        rows = tuple((str(k), ctx.num(h[k])) for k in keep if k < len(h))
    table = Table(("step", "loss"), rows, ("text", "math"), "rr",
                  "The loss before the first step (step 0) and after each step")
    xs, ys = downsample(range(len(h)), [float(v) for v in h])
    plot = Plot(tuple(xs), tuple(ys), "step", "loss",
                "The loss over the training steps", "loss.svg")
    return Section("Loss over the steps", 1, (table, plot), "history")
