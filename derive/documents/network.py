"""What a worked solution says about its network before deriving anything: the network, its task, its numbers.

Shared by both forms of the document and by the slides: the description of the
layers and their activations, the definition of the loss, the learning rate, the
tables of starting parameters and data, and how to read the numbers. Each part is a
function of the :class:`~derive.documents.context.Context`, so that a slide can show
exactly one of them.
"""

from __future__ import annotations

import sympy as sp

from derive.core import functions as fn
from derive.core.notation import sample_latex
from derive.documents import optimizer
from derive.documents.context import Context
from derive.documents.diagram import build as diagram
from derive.documents.diagram import unit_name
from derive.documents.layout import COLUMNS_PER_TABLE
from derive.documents.model import Chain, Figure, M, P, Paragraph, Section, Table


def count(k: int, word: str) -> str:
    """'1 unit', '2 units'."""
    return f"{k} {word}{'' if k == 1 else 's'}"


def _names(latex: list[str]) -> str:
    """Up to three names, else the first, dots and the last."""
    return ", ".join(latex) if len(latex) <= 3 else f"{latex[0]}, \\dots, {latex[-1]}"


def layers(ctx: Context, end: str) -> tuple:
    """'The network has 2 inputs x1, x2, a hidden layer of 2 units h1, h2 and 2 output units o1, o2' and ``end``:
    the parts of a paragraph, the unit names in mathematics."""
    spec, n = ctx.spec, ctx.n
    sizes, L = spec.sizes, spec.layers
    inputs = _names([n.input(None, i).latex for i in range(sizes[0])])
    parts = [f"The network has {count(sizes[0], 'input')} ", M(inputs)]
    if n.units:
        hidden = [n.unit(l, j).latex for l in range(1, L) for j in range(sizes[l])]
        if L > 1:
            parts += [f", a hidden layer of {count(sizes[1], 'unit')} ", M(_names(hidden))]
        outputs = _names([n.unit(L, j).latex for j in range(sizes[L])])
        parts += [f" and {count(sizes[L], 'output unit')} ", M(outputs), end]
        return tuple(parts)
    hidden = sizes[1:-1]
    if not hidden:
        parts.append(", no hidden layer")
    elif len(hidden) == 1:
        parts.append(f", a hidden layer of {count(hidden[0], 'unit')}")
    else:
        parts.append(f", {len(hidden)} hidden layers of " + ", ".join(map(str, hidden[:-1])) + f" and {hidden[-1]} units")
    parts.append(f" and {count(sizes[-1], 'output unit')}{end}")
    return tuple(parts)


def layers_paragraph(ctx: Context, units_end: str) -> Paragraph:
    """The layers sentence as a paragraph: in units notation ended by ``units_end``, in layered notation by how
    the layer index is written."""
    if ctx.n.units:
        return P(*layers(ctx, units_end))
    return P(*layers(ctx, ". Layer "), M("l"), " is written as a superscript ", M("[l]"),
             "; the output layer is layer ", M(str(ctx.spec.layers)), ".")


def description(ctx: Context) -> list:
    """The layers and their units, then what each unit computes (one paragraph per activation)."""
    spec, n = ctx.spec, ctx.n
    L = spec.layers
    blocks = [layers_paragraph(ctx, ".")]
    same = len(set(spec.activations)) == 1
    for l in range(1, L + 1):
        act = fn.ACTIVATIONS[spec.activations[l - 1]]
        if same and l > 1:
            break
        generic_net = r"\mathrm{net}" if n.units else f"z^{{[{l}]}}"
        where = "every unit" if same else f"each unit of {n.layer_name(l)}"
        output = ("the outputs are the softmax of the layer's net inputs, probabilities that sum to 1"
                  if act.coupled else f"its output is the {act.title} activation of the net input")
        blocks.append(P(
            f"The net input of {where} is the weighted sum of its inputs plus its bias; {output}: ",
            M(activation_formula(act, generic_net, l)), ".",
        ))
    return blocks


def task(ctx: Context) -> list:
    """What the network is asked to do: the loss it minimises, its conventions, the learning rate."""
    spec = ctx.spec
    blocks = definition(ctx)
    rule = fn.LOSSES[spec.loss]
    if rule.takes_logits:
        blocks.append(P(
            "PyTorch's CrossEntropyLoss takes the output layer's net inputs as logits and applies the softmax "
            "itself; here that softmax is written as the output layer's activation, so that its step and its "
            "derivative show. The targets are class probabilities (a one-hot row names the right class).",
        ))
    N, K = spec.batch, spec.sizes[-1]
    if rule.squared and rule.squared.coefficient != sp.Rational(1, 2) and rule.squared.coefficient * rule.weight(N, K) == sp.Rational(1, 2):
        blocks.append(P(
            "Here ", M(f"N = {N}"), f" sample{'s' if N > 1 else ''} and ", M(f"K = {K}"),
            f" output{'s' if K > 1 else ''}, so the mean divides by ", M(str(N * K)), ": for this network the mean squared error equals one half of the sum of squared "
            "errors, and its numbers agree with the half-sum convention.",
        ))
    blocks.append(rate_sentence(ctx))
    note = convention_note(ctx)
    if note is not None:
        blocks.append(note)
    return blocks


def weight_indices(ctx: Context) -> list:
    """How the scalar names index a weight (the layered names; the blog's names say it themselves)."""
    spec = ctx.spec
    if ctx.n.units:
        return []
    l1 = r"W^{[l]}_{j,i}" if spec.weight_layout == "out_in" else r"W^{[l]}_{i,j}"
    return [P(
        "The weight ", M(l1), " connects unit ", M("i"), " of layer ", M("l-1"), " to unit ", M("j"),
        " of layer ", M("l"), *((": one row per unit of layer ", M("l"), ".")
                                if spec.weight_layout == "out_in" else
                                (": one row per unit of layer ", M("l-1"), ", as in the product ",
                                 M(r"a^{[l-1]}\, W^{[l]}"), " of a row of inputs and the weights.")),
    )]


def reading(ctx: Context) -> Paragraph:
    """How to read the numbers: exact or carried to 60 digits, rounded only when printed."""
    exact = ("every value is an exact rational number" if ctx.s.exact
             else "every value is carried with 60 significant digits")
    return P(
        f"How to read the numbers: {exact}, and only printing rounds, to {ctx.digits} significant "
        "digits. An equals sign ", M("="), " before a result marks a printed number that is exact, ", M(r"\approx"),
        " one that was rounded. A line with the numbers put in shows them rounded; its result is computed "
        "from the unrounded values. The numbers of a table column, or of a matrix, share one number of "
        "decimals, so that their decimal points line up: a small number there keeps its significant digits, "
        "and a larger one shows more.",
    )


def section(ctx: Context, layout: list, parameters: list) -> Section:
    """The network section: the description beside its diagram, the task, the form's ``layout`` notes, its
    ``parameters`` (the starting weights and the data, as tables or matrices), and how to read the numbers."""
    blocks = description(ctx)
    blocks.insert(1, Figure(diagram(ctx.s, "weights"), "network.svg"))
    blocks += task(ctx) + layout + parameters
    blocks.append(reading(ctx))
    return Section("The network", 1, tuple(blocks), "network")


def definition(ctx: Context) -> list:
    """The loss in words, then its formula."""
    lhs, rhs = loss_formula(ctx).split(" = ", 1)
    return [P(f"The loss is {fn.LOSSES[ctx.spec.loss].description}:"), Chain(((lhs, "=", rhs),))]


def rate_sentence(ctx: Context) -> Paragraph:
    """The learning rate, and whether the biases are updated."""
    if optimizer.active(ctx.s):
        return optimizer.rate_sentence(ctx)
    rule = "biases are updated too" if ctx.spec.update_biases else "biases are not updated"
    return P("One step of gradient descent with learning rate ", M(rf"{ctx.eta} = " + ctx.num(ctx.spec.learning_rate)),
             f"; {rule}.")


def convention_note(ctx: Context) -> Paragraph | None:
    """The book's names, the sign of its error term and its update, when the document speaks a book's convention."""
    book = ctx.book
    if book is None:
        return None
    n, L = ctx.n, ctx.spec.layers
    net, out, delta = n.net(L, None, 0).latex, n.out(L, None, 0).latex, n.delta(L, None, 0).latex
    sign = ("the error term is the derivative of the loss with respect to the net input, "
            if book.error_sign > 0 else
            "the error term is the negative of the derivative of the loss with respect to the net input, so the "
            "derivative is written with its minus sign, ")
    return P(f"The names are those of {book.title}: net input ", M(net), ", output ", M(out), "; ", sign,
             M(rf"{delta} = \partial {n.loss().latex} / \partial {net}"), ". The update in the book's form: ",
             M(book.update), ".")


def activation_formula(act, net: str, l: int = 1) -> str:
    """The activation's formula in LaTeX, written for the net input ``net`` (of layer l)."""
    out = r"\mathrm{out}" if net == r"\mathrm{net}" else rf"a^{{[{l}]}}"
    return act.equation_latex(net, out)


def loss_formula(ctx: Context) -> str:
    """The loss's formula in LaTeX, in the document's names."""
    n, spec = ctx.n, ctx.spec
    E = n.loss().latex
    t, o = (r"t_{o_k}", r"\mathrm{out}_{o_k}") if n.units else ("t_k", rf"a^{{[{spec.layers}]}}_k")
    if ctx.book is not None:
        t, o = f"{ctx.book.target.latex}_k", f"{ctx.book.out.latex}_k"
    if spec.batch > 1:
        t, o = sample_latex(t, "n"), sample_latex(o, "n")
    N, K = spec.batch, spec.sizes[-1]
    sums = (r"\sum_{n=1}^{" + str(N) + "}" if N > 1 else "") + r"\sum_{k=1}^{" + str(K) + "}"
    if N * K == 1:
        t, o = t.replace("_k", "_1").replace("o_k", "o_1"), o.replace("_k", "_1").replace("o_k", "o_1")
        sums = ""
    return fn.LOSSES[spec.loss].formula_latex(E, t, o, sums, N, K)


def parameter_table(ctx: Context) -> Table:
    """Every weight and bias with what it connects and its starting value."""
    spec, n = ctx.spec, ctx.n
    rows, values = [], []
    for l in range(1, spec.layers + 1):
        for j in range(spec.sizes[l]):
            for i in range(spec.sizes[l - 1]):
                # the units as the diagram names them: x_1 -> a^{[1]}_1 for W^{[1]}, a^{[2]}_1 -> a^{[3]}_1 for W^{[3]}
                src, dst = unit_name(n, l - 1, i).latex, unit_name(n, l, j).latex
                rows.append((n.weight(l, j, i).latex, rf"{src} \to {dst}"))
                values.append((ctx.run.weights[l][j][i], f"W{l}[{j}][{i}]"))
            rows.append((n.bias(l, j).latex, rf"\text{{bias of }} {unit_name(n, l, j).latex}"))
            values.append((ctx.run.biases[l][j], f"b{l}[{j}]"))
    printed = ctx.column([v for v, _ in values], [place for _, place in values])
    return Table(("parameter", "connects", "value"), tuple(row + (p,) for row, p in zip(rows, printed)),
                 ("math", "math", "math"), "llr", "Starting parameters")


def _columns(ctx: Context, rows, key: str) -> list[list[str]]:
    """rows[s][i] of the spec's inputs or targets printed with one format for each i (a column of the table)."""
    columns = [ctx.column([row[i] for row in rows], [f"{key}[{s}][{i}]" for s in range(len(rows))])
               for i in range(len(rows[0]))]
    return [list(row) for row in zip(*columns)]


def data_table(ctx: Context) -> Table:
    """The inputs and targets, a row per sample (a row per input when the input is wide)."""
    spec, n = ctx.spec, ctx.n
    header = ["sample"] + [M(n.input(None, i).latex) for i in range(spec.sizes[0])] + \
             [M(n.target(None, k).latex) for k in range(spec.sizes[-1])]
    if len(header) > COLUMNS_PER_TABLE + 2:  # a wide input: one row per input instead, a column per sample
        header = ["", *(f"sample {s + 1}" for s in range(spec.batch))]
        columns = [ctx.column(list(spec.inputs[s]) + list(spec.targets[s]),
                              [f"inputs[{s}][{i}]" for i in range(spec.sizes[0])]
                              + [f"targets[{s}][{k}]" for k in range(spec.sizes[-1])]) for s in range(spec.batch)]
        names = [n.input(None, i).latex for i in range(spec.sizes[0])] + \
                [n.target(None, k).latex for k in range(spec.sizes[-1])]
        rows = [(name, *(columns[s][r] for s in range(spec.batch))) for r, name in enumerate(names)]
        return Table(tuple(header), tuple(rows), ("math",) * len(header), "l" + "r" * spec.batch,
                     "Inputs and targets")
    # one format per column: an input or a target over the samples
    x, t = _columns(ctx, spec.inputs, "inputs"), _columns(ctx, spec.targets, "targets")
    rows = [tuple([str(s + 1)] + x[s] + t[s]) for s in range(spec.batch)]
    kinds = ("text",) + ("math",) * (len(header) - 1)
    return Table(tuple(header), tuple(rows), kinds, "c" + "r" * (len(header) - 1), "Inputs and targets")
