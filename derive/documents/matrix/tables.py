"""Matrices and layers too big to typeset, as tables of every entry, split to fit the page."""

from __future__ import annotations

import math

from derive.documents.layout import table_chunks, width
from derive.documents.matrix.context import MatrixContext
from derive.documents.model import M, P, Table


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


def in_layout(m: MatrixContext, matrix):
    """A (out x in) matrix in the spec's layout, with the spec's row/column labels."""
    if m.spec.weight_layout == "out_in":
        return matrix
    return tuple(zip(*matrix))


def weight_tables(m: MatrixContext, caption: str, l: int, matrix) -> list:
    """A weight-shaped matrix of layer l in the spec's layout, rows and columns labelled by unit number.

    What the rows and columns are is said in a line before the tables (a caption that long would be
    wider than a narrow table).
    """
    laid = in_layout(m, matrix)
    below = ("input ", M("x_i")) if l == 1 else ("unit ", M("i"), " of layer ", M(str(l - 1)))
    unit = ("unit ", M("j"), " of layer ", M(str(l)))
    if m.spec.weight_layout == "out_in":
        lead = P(f"{caption}: row ", M("j"), " is ", *unit, ", column ", M("i"), " is ", *below, ".")
    else:
        lead = P(f"{caption}: row ", M("i"), " is ", *below, ", column ", M("j"), " is ", *unit, ".")
    index = lambda k: str(k + 1)
    return [lead, *matrix_tables(m, caption, laid, index, index)]


def unit_tables(m: MatrixContext, l: int, columns: list[tuple], caption: str) -> list[Table]:
    """One row per unit of layer l; columns are (header, values[s][j]) pairs, a column per sample.

    At most COLUMNS_PER_TABLE columns of numbers to a table, so that each fits the page.
    """
    spec = m.spec
    # one number format per column: a quantity for one sample over the layer's units
    cells = [(title, m.column(values[s][j] for j in range(spec.sizes[l])), s)
             for title, values in columns for s in range(spec.batch)]
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
    return tables


def bias_table(m: MatrixContext, caption: str, l: int, values, header: str) -> Table:
    """A bias-like vector of layer l as a table, a row per unit, its numbers in one format."""
    printed = m.column(values[j] for j in range(m.spec.sizes[l]))
    return Table(("unit", M(header)), tuple((str(j + 1), printed[j]) for j in range(m.spec.sizes[l])),
                 ("text", "math"), "rr", caption)
