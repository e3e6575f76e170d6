"""The forward pass in matrix form: z = W a + b (a W + b) with the matrices, then a = f(z), layer by layer."""

from __future__ import annotations

from derive.documents.handout import TABLES_APPENDIX
from derive.documents.layout import cat, paren, pmatrix, text
from derive.documents.matrix.context import MatrixContext
from derive.documents.matrix.tables import CORNER, summarised, unit_tables
from derive.documents.model import Chain, M, P, Section, Table
from derive.documents.scalar import forward as scalar_forward


def section(m: MatrixContext) -> Section:
    spec = m.spec
    layers = [layer(m, l) for l in range(1, spec.layers + 1)]
    vectors = (("with column vectors, ", M("W^{[l]}"), " on the left") if m.columns else
               ("with row vectors, ", M("W^{[l]}"), " on the right"))
    samples = (f", one {'column' if m.columns else 'row'} per sample" if m.batch else "")
    tables = [b for inner in layers for b in inner if isinstance(b, Table)]
    summarised = any(t.summary is not None for t in tables)
    blocks = [P("The forward pass in matrix form, layer by layer, ", *vectors, samples,
                f"; a big matrix is shown by its shape, a few of its entries and their range, its table in {TABLES_APPENDIX}."
                if summarised else "; every entry is in the tables." if not m.typeset else
                "; where a matrix is too big to print, every entry is in a table." if tables else ".")]
    for l, inner in enumerate(layers, start=1):
        blocks.append(Section(m.layer_title(l), 2, tuple(inner)))
    return Section("Forward pass", 1, tuple(blocks), "forward")


def layer(m: MatrixContext, l: int) -> list:
    spec, run = m.spec, m.run
    act = m.g.activation(l)
    net, out = net_chain(m, l), out_chain(m, l)
    if net is not None and out is not None:
        each = "of the whole vector" if act.coupled else "of each entry"
        inner = [P("The net inputs, then the ", "output" if act.passthrough else f"{act.title} {each}", ":"),
                 net, out]
    else:
        f = act.latex.format(f"z^{{[{l}]}}")
        inner = [P(M(m.formulas(l)["net"]), ", ", M(rf"a^{{[{l}]}} = {f}"),
                   " of the whole vector." if act.coupled else " elementwise.")]
        inner += unit_tables(m, l, [(f"z^{{[{l}]}}_j", run.net[l], m.z(l)), (f"a^{{[{l}]}}_j", run.out[l], m.a(l))],
                                  f"Net inputs and outputs of {m.n.layer_name(l)}")
    if act.mask:
        dead = [str(j + 1) for j in range(spec.sizes[l]) if all(run.net[l][s][j] <= 0 for s in range(spec.batch))]
        if dead:
            inner.append(P(f"Unit{'s' if len(dead) > 1 else ''} {', '.join(dead)} "
                           f"{'have' if len(dead) > 1 else 'has'} a net input of at most 0: ReLU sets "
                           f"{'their' if len(dead) > 1 else 'its'} output to 0, and "
                           f"{'they pass' if len(dead) > 1 else 'it passes'} no gradient back "
                           "(see the backward pass)."))
    units = sorted({key[2] for key in m.detail if key[1] == l})
    if units and net is None:
        inner.append(P("Written out for the units whose derivations follow in full:"))
        for j in units:
            inner += [scalar_forward.net_chain(m, l, 0, j, CORNER if summarised(spec.sizes[l - 1]) else 0),
                      scalar_forward.out_chain(m, l, 0, j)]
    return inner


def net_chain(m: MatrixContext, l: int) -> Chain | None:
    """z = W a + b (a W + b) with the matrices, each entry's sum of products, and the result."""
    spec, run, num = m.spec, m.run, m.num
    n_in, size = spec.sizes[l - 1], spec.sizes[l]
    if not (m.fits_weight(l) and m.fits_sample(n_in) and m.fits_sample(size)):
        return None
    W = pmatrix(m.grid(m.by_weight(lambda j, i: run.weights[l][j][i], l)))
    b = m.vector_of(lambda j: run.biases[l][j], size)

    def entry(s, j):
        pairs = [(num(run.weights[l][j][i]), num(run.out[l - 1][s][i])) for i in range(n_in)]
        terms = [rf"{paren(w)} \cdot {paren(x)}" if m.columns else rf"{paren(x)} \cdot {paren(w)}"
                 for w, x in pairs]
        return " + ".join(terms + [paren(num(run.biases[l][j]))])

    inputs = m.values(run.out[l - 1], n_in)
    steps = [[text(m.times(f"W^{{[{l}]}}", m.a(l - 1)) + f" + b^{{[{l}]}}")]]
    steps += m.optional(m.z(l), cat(W, inputs) if m.columns else cat(inputs, W), cat(text("+"), b))
    steps += m.optional(m.z(l), pmatrix(m.by_sample(entry, size)))
    steps.append([m.values(run.net[l], size)])
    return m.display(m.z(l), steps, [v for row in run.net[l] for v in row])


def out_chain(m: MatrixContext, l: int) -> Chain | None:
    """a = f(z), each entry with its number put in."""
    spec, run = m.spec, m.run
    act, size = m.g.activation(l), spec.sizes[l]
    if not m.fits_sample(size):
        return None
    steps = [[text(act.latex.format(m.z(l)))]]
    if not act.passthrough:
        entries = pmatrix(m.by_sample(lambda s, j: m.nums(m.g.out_definition(l, s, j)), size))
        steps += m.optional(m.a(l), entries)
    steps.append([m.values(run.out[l], size)])
    return m.display(m.a(l), steps, [v for row in run.out[l] for v in row])
