"""Matrices and layers too big to typeset, as tables of every entry, split to fit the page.

A table of more than BODY_ENTRIES numbers is summarised in the text, the way a lecture
handout shows a big matrix (its shape, a corner of entries with ellipses, its range and
norm), and the table itself is printed in the appendix of tables (derive.documents.handout).
"""

from __future__ import annotations

import math
from dataclasses import replace

from derive.core.numeric import MP, to_mp
from derive.documents.handout import TABLES_APPENDIX
from derive.documents.layout import LINE_WIDTH, Piece, pmatrix, table_chunks, width
from derive.documents.matrix.context import MatrixContext
from derive.documents.model import Chain, M, P, Table
from derive.documents.network import data_table

#: the most numbers a table in the text holds; a bigger matrix is summarised there, every entry in the appendix
BODY_ENTRIES = 12
#: the most numbers of one matrix printed in the appendix; a bigger one is only summarised (a 784-pixel
#: input or a 32 x 784 weight matrix in full would fill dozens of pages)
APPENDIX_ENTRIES = 500
#: the leading rows (columns) a summarised matrix shows before its ellipsis and its last row (column)
CORNER = 3


def summarised(entries: int) -> bool:
    """True when a matrix of this many numbers is shown by a summary in the text (its table in the appendix)."""
    return entries > BODY_ENTRIES


def corner(m: MatrixContext, laid) -> Piece:
    """A matrix cut to its first rows and columns and its last, the rest as ellipses; the entries shown are
    printed in one format of their own (the whole matrix's could be far wider)."""
    def cut(count: int) -> list:
        return list(range(count)) if count <= CORNER + 1 else [*range(CORNER), None, count - 1]

    rows, cols = cut(len(laid)), cut(len(laid[0]))
    printed = iter(m.grid([[laid[r][c] for c in cols if c is not None] for r in rows if r is not None]))
    out = []
    for r in rows:
        if r is None:
            out.append([r"\ddots" if c is None else r"\vdots" for c in cols])
        else:
            entries = iter(next(printed))
            out.append([r"\cdots" if c is None else next(entries) for c in cols])
    return pmatrix(out)


def shape(rows: int, cols: int) -> str:
    return rf"{rows} \times {cols}"


def spread(m: MatrixContext, values: list) -> list:
    """How a matrix's entries spread, as parts of a sentence: their range, and how many are zero."""
    low, high = min(values), max(values)
    if low == high:
        return ["all ", M(m.num(low))]
    parts = ["from ", M(m.num(low)), " to ", M(m.num(high))]
    zeros = sum(1 for v in values if v == 0)
    if zeros:
        parts.append(f" ({zeros} of the {len(values)} are 0)")
    return parts


def norm(m: MatrixContext, values: list) -> str:
    """The Frobenius (Euclidean) norm of the entries, printed."""
    return m.num(MP.sqrt(MP.fsum(to_mp(v) ** 2 for v in values)))


def where(caption: str, entries: int) -> str:
    return f"All {entries} entries are in the table \u201c{caption}\u201d of {TABLES_APPENDIX}."


def matrix_summary(m: MatrixContext, symbol: str, laid) -> tuple:
    """A weight-shaped matrix in the text: a corner of it, its shape, range and norm, where its table is."""
    rows, cols = len(laid), len(laid[0])
    values = [v for row in laid for v in row]
    shown = corner(m, laid)
    return (Chain(((symbol, m.relation(values), shown.latex),)),
            ["A ", M(shape(rows, cols)), " matrix with entries ", *spread(m, values), ", norm ",
             M(rf"\lVert {symbol} \rVert_F \approx {norm(m, values)}"), ". "])


def vectors_summary(m: MatrixContext, quantities: list) -> tuple:
    """Vectors of a layer in the text, (symbol, laid-out matrix, values) each: a few entries, their range."""
    pieces = [(symbol, corner(m, laid), values)
              for symbol, laid, values in quantities]
    lines, line = [], []  # as many vectors to a line as fit, each line aligned at its first relation
    for symbol, piece, values in pieces:
        wide = width(symbol) + piece.width + 4
        if line and sum(w for *_, w in line) + wide + 4 > LINE_WIDTH:
            lines.append(line)
            line = []
        line.append((symbol, m.relation(values), piece.latex, wide))
    lines.append(line)
    rows = tuple((line[0][0], line[0][1], r", \qquad ".join([line[0][2]] + [f"{s} {r} {x}" for s, r, x, _ in line[1:]]))
                 for line in lines)
    shapes = [(len(laid), len(laid[0])) for _, laid, _ in quantities]
    facts = []
    for k, (symbol, laid, values) in enumerate(quantities):
        facts += ["; " if k else "", M(symbol)]
        if len(set(shapes)) > 1:
            facts += [" (", M(shape(*shapes[k])), ")"]
        facts += [" ", *spread(m, values)]
    rows_, cols_ = shapes[0]
    kind = "row vector" if rows_ == 1 else "column vector" if cols_ == 1 else "matrix"
    lead = (["Entries of "] if len(set(shapes)) > 1 else
            ["Each a " if len(quantities) > 1 else "A ", M(shape(rows_, cols_)), f" {kind}, entries of "])
    return Chain(rows), [*lead, *facts, ". "]


def matrix_tables(m: MatrixContext, caption: str, matrix, row_label, col_label) -> list[Table]:
    """A matrix as tables of at most COLUMNS_PER_TABLE columns, narrow enough to fit the page.

    Every entry of the matrix is printed with the same decimals (one format for the whole matrix, so
    its parts agree); a table's columns are then aligned on the decimal point.
    """
    rows, cols = len(matrix), len(matrix[0])
    printed = m.grid(matrix)
    widths = [max(width(printed[r][c]) for r in range(rows)) for c in range(cols)]
    chunks = table_chunks(widths)
    width_ = math.ceil(cols / chunks)
    tables = []
    for start in range(0, cols, width_):
        stop = min(cols, start + width_)
        corner = M(r"j \backslash i") if m.spec.weight_layout == "out_in" else M(r"i \backslash j")
        header = (corner,) + tuple(M(col_label(c)) for c in range(start, stop))
        body = tuple((row_label(r),) + tuple(printed[r][c] for c in range(start, stop))
                     for r in range(rows))
        part = f", columns {start + 1} to {stop}" if chunks > 1 else ""
        tables.append(Table(header, body, ("math",) * (stop - start + 1), "l" + "r" * (stop - start),
                            caption + part))
    return tables


def appendix_lead(m: MatrixContext) -> tuple:
    """How the appendix's tables are laid out: a weight table in the layout of W, the others a row per unit."""
    below, unit = ("unit ", M("i"), " of the layer below"), ("unit ", M("j"), " of the layer")
    row, col = (unit, below) if m.columns else (below, unit)
    return (P("A weight-shaped table has the layout of ", M("W^{[l]}"), ": row ", row[1], " is ", *row,
              ", column ", col[1], " is ", *col, ". The other tables have a row per unit."),)


def in_layout(m: MatrixContext, matrix):
    """A (out x in) matrix in the spec's layout, with the spec's row/column labels."""
    if m.spec.weight_layout == "out_in":
        return matrix
    return tuple(zip(*matrix))


def weight_tables(m: MatrixContext, caption: str, l: int, matrix, symbol: str) -> list:
    """A weight-shaped matrix of layer l in the spec's layout, rows and columns labelled by unit number.

    What the rows and columns are is said in a line before the tables (a caption that long would be
    wider than a narrow table). A big one (``symbol`` in the text) is summarised, its tables in the appendix.
    """
    laid = in_layout(m, matrix)
    below = ("input ", M("x_i")) if l == 1 else ("unit ", M("i"), " of layer ", M(str(l - 1)))
    unit = ("unit ", M("j"), " of layer ", M(str(l)))
    if m.spec.weight_layout == "out_in":
        lead = P(f"{caption}, ", M(symbol), ": row ", M("j"), " is ", *unit, ", column ", M("i"), " is ", *below, ".")
    else:
        lead = P(f"{caption}, ", M(symbol), ": row ", M("i"), " is ", *below, ", column ", M("j"), " is ", *unit, ".")
    index = lambda k: str(k + 1)
    tables = matrix_tables(m, caption, laid, index, index)
    if summarised(len(laid) * len(laid[0])):
        tables = in_appendix(tables, matrix_summary(m, symbol, laid), len(laid) * len(laid[0]))
    return [lead, *tables]


def in_appendix(tables: list, summary: tuple, entries: int) -> list:
    """Tables that the text shows by a summary (the first one carries it), every entry in the appendix.

    ``summary`` is a display and the parts of the sentence after it. A matrix too big even for the
    appendix is shown by its summary alone.
    """
    chain, parts = summary
    if entries > APPENDIX_ENTRIES:
        return [chain, P(*parts, f"These {entries} numbers are too many to print in full.")]
    blocks = (chain, P(*parts, where(tables[0].caption.split(", columns")[0].split(", part")[0], entries)))
    return [replace(t, summary=blocks if k == 0 else ()) for k, t in enumerate(tables)]


def unit_tables(m: MatrixContext, l: int, columns: list[tuple], caption: str) -> list[Table]:
    """One row per unit of layer l; columns are (header, values[s][j], symbol) triples, a column per sample.

    At most COLUMNS_PER_TABLE columns of numbers to a table, so that each fits the page. A big
    one is summarised in the text, each quantity by its ``symbol`` as a vector (a matrix of samples).
    """
    spec = m.spec
    # one number format per column: a quantity for one sample over the layer's units
    cells = [(title, m.column(values[s][j] for j in range(spec.sizes[l])), s)
             for title, values, _ in columns for s in range(spec.batch)]
    chunks = table_chunks([max([width(title) + (6 if spec.batch > 1 else 0)] + [width(p) for p in printed])
                           for title, printed, s in cells])
    size = math.ceil(len(cells) / chunks)
    tables = []
    for start in range(0, len(cells), size):
        part = cells[start:start + size]
        header = ["unit"] + [M(title + (rf"\;(n = {s + 1})" if spec.batch > 1 else "")) for title, _, s in part]
        body = tuple((str(j + 1), *(printed[j] for _, printed, _ in part))
                     for j in range(spec.sizes[l]))
        tables.append(Table(tuple(header), body, ("text",) + ("math",) * len(part), "r" * len(header),
                            caption + (f", part {start // size + 1} of {chunks}" if chunks > 1 else "")))
    if summarised(len(cells) * spec.sizes[l]):
        quantities = [(symbol, m.by_sample(lambda s, j: values[s][j], spec.sizes[l]),
                       [v for row in values for v in row]) for _, values, symbol in columns]
        tables = in_appendix(tables, vectors_summary(m, quantities), len(cells) * spec.sizes[l])
    return tables


def bias_tables(m: MatrixContext, caption: str, l: int, values, header: str, symbol: str) -> list:
    """A bias-shaped vector of layer l as a table, a row per unit; a big one is summarised in the text as ``symbol``."""
    size = m.spec.sizes[l]
    printed = m.column(values[j] for j in range(size))  # one number format for the column
    table = Table(("unit", M(header)), tuple((str(j + 1), printed[j]) for j in range(size)),
                  ("text", "math"), "rr", caption)
    if not summarised(size):
        return [table]
    laid = m.by_unit(lambda j: values[j], size)
    return in_appendix([table], vectors_summary(m, [(symbol, laid, list(values))]), size)


def data_tables(m: MatrixContext) -> list[Table]:
    """The inputs and targets as a table; a big one summarised in the text as the vectors (matrices) x and t."""
    spec = m.spec
    table = data_table(m)
    if not summarised(spec.batch * (spec.sizes[0] + spec.sizes[-1])):
        return [table]
    targets = m.s.rules.lift(spec.targets)
    quantities = [(m.a(0), m.by_sample(lambda s, i: m.run.out[0][s][i], spec.sizes[0]),
                   [v for row in m.run.out[0] for v in row]),
                  (m.target(), m.by_sample(lambda s, k: targets[s][k], spec.sizes[-1]),
                   [v for row in targets for v in row])]
    return in_appendix([table], vectors_summary(m, quantities), spec.batch * (spec.sizes[0] + spec.sizes[-1]))
