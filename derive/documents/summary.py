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
    names, columns, kept = [], ([], [], []), False
    for l in range(spec.layers, 0, -1):
        for j in range(spec.sizes[l]):
            for i in list(range(spec.sizes[l - 1])) + [None]:
                names.append((n.weight(l, j, i) if i is not None else n.bias(l, j)).latex)
                for column, values in zip(columns, (r.weights, r.grad_W, r.new_weights) if i is not None
                                          else (r.biases, r.grad_b, r.new_biases)):
                    column.append(values[l][j][i] if i is not None else values[l][j])
                kept = kept or (i is None and not spec.update_biases)
    if len(names) > 60:
        return None
    # one number format per column: the same decimals down each, so the decimal points line up
    printed = [ctx.column(column) for column in columns]
    rows = tuple(zip(names, *printed))
    caption = "Every gradient and updated parameter" + ("; the biases are not updated" if kept else "")
    return Section("Summary", 1, (Table(("parameter", "value", M(r"\partial E/\partial p"), "updated"), rows,
                                        ("math",) * 4, "lrrr", caption),), "summary")


def checked(ctx: Context) -> Section:
    """The appendix on how the numbers were checked: the chain rule against the direct derivative."""
    method = ctx.s.verification.method
    return Section(CHECKED_TITLE, 1, (P(
        method[0].upper() + method[1:], "; every chain-rule factor in the text was recomputed from its formula and "
        "agrees with the backward sweep, the same computation done once for all units."),), "checked", appendix=True)


def history(ctx: Context) -> Section:
    """The loss before the first step and after each step, as a table and a plot."""
    h = ctx.s.history
    steps = list(range(len(h)))
    if len(steps) > 25:  # a long run: the first and last steps and every tenth of the way
        keep = sorted({0, 1, 2, len(h) - 2, len(h) - 1} | {round(len(h) * f / 10) for f in range(1, 10)})
        steps = [k for k in keep if k < len(h)]
    rows = tuple(zip((str(k) for k in steps), ctx.column(h[k] for k in steps)))
    table = Table(("step", "loss"), rows, ("text", "math"), "rr",
                  "The loss before the first step (step 0) and after each step")
    xs, ys = downsample(range(len(h)), [float(v) for v in h])
    plot = Plot(tuple(xs), tuple(ys), "step", "loss",
                "The loss over the training steps", "loss.svg")
    return Section("Loss over the steps", 1, (table, plot), "history")
