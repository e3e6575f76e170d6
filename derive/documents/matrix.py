"""The worked solution in matrix form: vectors and matrices with the numbers put in, tables where they are too big.

Written for the ``matrix`` notation and for every large network. Each layer's
equations (``z = W a + b``, or ``z = a W + b`` in the ``in_out`` layout, as the
first source document's ``x @ w1 + b1``; the delta vectors; the gradient as an
outer product; the update) are typeset as matrices with their numbers when every
matrix fits a line of the page, and as tables of every entry otherwise. The ReLU
mask is written on the pre-activation, where it belongs. With several samples the
sample index is a column (``out_in``) or a row (``in_out``), and the batch mean of
the gradient is a step of its own. The scalar derivations of the parameters chosen
with ``detail`` are written out exactly as for a small network.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import sympy as sp

from derive.core import functions as fn
from derive.core.numeric import MP, to_mp
from derive.documents import optimizer
from derive.documents.model import Chain, M, P, Section, Table
from derive.documents.printing import DerivePrinter
from derive.errors import DeriveError, suggestion

COLUMNS_PER_TABLE = 6
#: the most rows a matrix is typeset with; a taller one is shown as a table
MATRIX_ROWS = 8
#: the width of a displayed line in digit widths (about 85 digits fit the A4 text width at 11 pt)
LINE_WIDTH = 78
#: how wide a LaTeX command prints, in digit widths (a command not listed: 1)
_COMMAND_WIDTHS = {"left": 0, "right": 0, "bigl": 0.5, "bigr": 0.5, "Bigl": 0.6, "Bigr": 0.6, "quad": 2,
                   "qquad": 4, ",": 0.3, ";": 0.5, "!": 0, " ": 0.5, "cdot": 1.5, "odot": 2.2, "approx": 2.2,
                   "mathrm": 0, "operatorname": 0, "text": 0, "top": 1.2, "partial": 1, "ln": 2, "max": 3,
                   "lVert": 0.8, "rVert": 0.8, "sum": 2}
_COMMAND = re.compile(r"\\([a-zA-Z]+|.)")


def width(tex: str) -> float:
    """Roughly how wide LaTeX mathematics prints, in digit widths; a fraction counts its wider part."""
    total, i = 0.0, 0
    while i < len(tex):
        if tex.startswith(("\\frac{", "\\tfrac{", "\\dfrac{"), i):
            top, i = _group(tex, tex.index("{", i))
            bottom, i = _group(tex, i)
            total += max(width(top), width(bottom)) + 0.5
            continue
        c = tex[i]
        if c == "\\":
            match = _COMMAND.match(tex, i)
            total += _COMMAND_WIDTHS.get(match.group(1), 1)
            i = match.end()
            continue
        total += 0 if c in "{}^_& " else 2.2 if c in "+-=<>" else 0.7 if c in ".,()[]|" else 1
        i += 1
    return total


def _group(tex: str, i: int) -> tuple[str, int]:
    """The text of the brace group opening at tex[i], and the index after it."""
    depth = 0
    for k in range(i, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[k], 0)
        if depth == 0:
            return tex[i + 1:k], k + 1
    return tex[i + 1:], len(tex)


@dataclass(frozen=True)
class Piece:
    """Part of a displayed formula: its LaTeX and roughly how wide it prints, in digit widths."""

    latex: str
    width: float


def text(tex: str) -> Piece:
    return Piece(tex, width(tex))


def cat(*pieces) -> Piece | None:
    """Pieces side by side; None when one of them cannot be typeset."""
    if any(p is None for p in pieces):
        return None
    return Piece(" ".join(p.latex for p in pieces), sum(p.width for p in pieces))


def pmatrix(entries) -> Piece | None:
    """A matrix of LaTeX entries (a list of rows), right-aligned as numbers are; None when it is too big to
    typeset (a table shows it). A fraction in an entry is set at display size, to stay legible."""
    # an entry opening with [ (the ReLU mask) is braced, or LaTeX would read it as the spacing of the \\ before
    rows = [["{" + e + "}" if e.startswith("[") else e.replace("\\frac{", "\\dfrac{") for e in row] for row in entries]
    if not rows or len(rows) > MATRIX_ROWS or len(rows[0]) > COLUMNS_PER_TABLE:
        return None
    columns = list(zip(*rows))
    wide = sum(max(width(e) for e in column) for column in columns) + 2 * len(columns) + 2
    # room between fractions; more where a fraction holds another
    fractions = max((e.count("frac{") for row in rows for e in row), default=0)
    gap = r" \\[2ex] " if fractions > 1 else r" \\[1ex] " if fractions else r" \\ "
    body = gap.join(" & ".join(row) for row in rows)
    return Piece(rf"\left(\begin{{array}}{{{'r' * len(columns)}}} {body} \end{{array}}\right)", wide)


#: the most squared errors written out in the loss; with more, only the result is shown
MAX_SQUARES = 36
#: the width of a table's columns of numbers, in digit widths, each with its padding (the A4 text width at 11 pt)
TABLE_WIDTH = 76


def table_chunks(widths: list[float]) -> int:
    """Into how many tables of equal numbers of columns a table of columns this wide is split to fit the page."""
    chunks = math.ceil(len(widths) / COLUMNS_PER_TABLE)
    while chunks < len(widths):
        size = math.ceil(len(widths) / chunks)
        if all(sum(w + 2.2 for w in widths[k:k + size]) <= TABLE_WIDTH for k in range(0, len(widths), size)):
            break
        chunks += 1
    return chunks


def transposed(entries) -> list:
    return [list(column) for column in zip(*entries)]


def _paren(tex: str) -> str:
    """A negative number parenthesised inside a product."""
    return rf"\left({tex}\right)" if tex.startswith("-") else tex


class ElementwisePrinter(DerivePrinter):
    """Formulas of whole vectors: vectors multiply entry by entry (the odot), a number times a vector plainly."""

    def _print_Mul(self, expr):
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient in (1, -1) or rest == 1:
            return super()._print_Mul(expr)
        inner = self._print(rest)
        return f"{self._print(coefficient)} " + (rf"\left({inner}\right)" if rest.is_Add else inner)

    def _print_Pow(self, expr):
        # a vector squared is the product entry by entry (a matrix square would be undefined)
        if expr.exp == 2 and expr.base.is_Symbol:
            inner = self._print(expr.base)
            return rf"{inner} \odot {inner}"
        return super()._print_Pow(expr)


class VectorWriter:
    """Sections of the matrix form, drawing on a worked.Writer for numbers and scalar blocks."""

    def __init__(self, writer):
        self.w = writer
        self.spec = writer.spec
        self.n = writer.n
        self.g = writer.g
        self.run = writer.run
        self.detail = self.chosen(writer.detail)
        #: out_in: vectors are columns and W multiplies from the left; in_out: rows, and a W
        self.columns = self.spec.weight_layout == "out_in"
        self.batch = self.spec.batch > 1
        #: matrices with their numbers are typeset in the matrix notation; a large network otherwise keeps its tables
        self.typeset = writer.s.matrix_form

    # -- symbols -------------------------------------------------------------------------
    def a(self, l: int) -> str:
        """The outputs of layer l (the input for l = 0): a vector, or a matrix of every sample."""
        if l == 0:
            return "X" if self.batch else "x"
        return f"{'A' if self.batch else 'a'}^{{[{l}]}}"

    def z(self, l: int) -> str:
        return f"{'Z' if self.batch else 'z'}^{{[{l}]}}"

    def delta(self, l: int) -> str:
        return (r"\Delta" if self.batch else r"\delta") + f"^{{[{l}]}}"

    def target(self) -> str:
        return "T" if self.batch else "t"

    def dE_da(self, l: int) -> str:
        """dE/da of layer l; with several samples each column (row) is the derivative of that sample's loss."""
        if self.batch:
            return rf"\frac{{\partial E^{{(n)}}}}{{\partial {self.a(l)}}}"
        return rf"\frac{{\partial E}}{{\partial {self.a(l)}}}"

    def times(self, left: str, right: str) -> str:
        """A matrix times a vector in this layout's order: W a (out_in) or a W (in_out)."""
        return f"{left} {right}" if self.columns else f"{right}\\, {left}"

    def T(self, symbol: str) -> str:
        """A symbol transposed."""
        return rf"({symbol})^{{\top}}" if "^" in symbol else rf"{symbol}^{{\top}}"

    # -- numbers in matrices -------------------------------------------------------------
    def by_sample(self, entry, size: int) -> list:
        """entry(s, j) for every unit j and sample s: a column per sample (out_in) or a row (in_out)."""
        N = self.spec.batch
        if self.columns:
            return [[entry(s, j) for s in range(N)] for j in range(size)]
        return [[entry(s, j) for j in range(size)] for s in range(N)]

    def by_weight(self, entry, l: int) -> list:
        """entry(j, i) for the weight from unit i of layer l - 1 to unit j of layer l, in the spec's layout."""
        n_in, n_out = self.spec.sizes[l - 1], self.spec.sizes[l]
        if self.columns:
            return [[entry(j, i) for i in range(n_in)] for j in range(n_out)]
        return [[entry(j, i) for j in range(n_out)] for i in range(n_in)]

    def by_unit(self, entry, size: int) -> list:
        """entry(j) of a bias-like vector: a column (out_in) or a row (in_out)."""
        if self.columns:
            return [[entry(j)] for j in range(size)]
        return [[entry(j) for j in range(size)]]

    def vector(self, entry, size: int) -> Piece | None:
        """entry(j) for every unit of a layer (a bias, its gradient) as a column (out_in) or a row (in_out)."""
        return pmatrix(self.by_unit(entry, size)) if self.typeset else None

    def fits_sample(self, size: int) -> bool:
        """True when a layer's values for every sample are to be typeset as a matrix (else: a table)."""
        rows, cols = (size, self.spec.batch) if self.columns else (self.spec.batch, size)
        return self.typeset and rows <= MATRIX_ROWS and cols <= COLUMNS_PER_TABLE

    def fits_weight(self, l: int) -> bool:
        """True when W of layer l is to be typeset as a matrix, and so its transpose (else: a table)."""
        n_in, n_out = self.spec.sizes[l - 1], self.spec.sizes[l]
        return self.typeset and max(n_in, n_out) <= MATRIX_ROWS and min(n_in, n_out) <= COLUMNS_PER_TABLE

    def values(self, values, size: int, place: str = "") -> Piece | None:
        """values[s][j] as a matrix of printed numbers; givens at ``place`` ('inputs') as the spec writes them."""
        if not self.fits_sample(size):
            return None
        if place:
            return pmatrix(self.by_sample(lambda s, j: self.w.given(values[s][j], f"{place}[{s}][{j}]"), size))
        return pmatrix(self.by_sample(lambda s, j: self.w.num(values[s][j]), size))

    def relation(self, values) -> str:
        """= when every printed value is exact, \\approx when one of them was rounded."""
        return r"\approx" if any(self.w.rel(v) != "=" for v in values) else "="

    def display(self, lhs: str, steps: list, values) -> Chain | None:
        """lhs = step = ... = result, each step a list of terms; a line breaks between terms when it is full.

        The last step is the result, and ``values`` its exact entries: its relation is = only when
        every one of them prints exactly. A step the same as the one before, or with a term wider
        than a line, is left out. None when the result is too wide for a line, or a matrix too big
        to typeset: the caller shows a table instead.
        """
        if steps[-1] is None or None in steps[-1]:
            return None
        room = LINE_WIDTH - width(lhs) - 2
        rows, previous = [], None
        final = " ".join(term.latex for term in steps[-1])
        for k, step in enumerate(steps):
            if step is None or None in step:  # a matrix of the step too big to typeset
                continue
            joined = " ".join(term.latex for term in step)
            if joined == previous or (k < len(steps) - 1 and joined == final):
                continue
            previous = joined
            if any(term.width > room - 2 for term in step):
                if k == len(steps) - 1:
                    return None  # the result itself does not fit: a table shows it
                continue  # a step with the numbers put in that does not fit is left out
            lines, line = [], None
            for term in step:
                if line is not None and line.width + term.width > room:
                    lines.append(line)
                    line = Piece(r"\quad {} " + term.latex, term.width + 2)
                else:
                    line = term if line is None else cat(line, term)
            lines.append(line)
            relation = self.relation(values) if k == len(steps) - 1 else "="
            for m, part in enumerate(lines):
                rows.append(("" if rows else lhs, relation if m == 0 else "", part.latex))
        return Chain(tuple(rows))

    def elementwise(self, expr, names: dict) -> str:
        """A placeholder expression (in a, z, t) written for whole vectors: products entry by entry."""
        return ElementwisePrinter(names, mul_symbol=r" \odot ").doprint(expr)

    # -- which parameters are written out in full --------------------------------------
    def parameter_names(self) -> dict:
        """Every parameter by the name the document prints and by its name in the data (JSON) where that differs."""
        names = {}
        for n in (self.n, self.w.s.notation):
            for l in range(1, self.spec.layers + 1):
                for j in range(self.spec.sizes[l]):
                    for i in range(self.spec.sizes[l - 1]):
                        names.setdefault(n.weight(l, j, i).text, ("W", l, j, i))
                    names.setdefault(n.bias(l, j).text, ("b", l, j, None))
        return names

    def default_detail(self) -> list[tuple]:
        """The output layer's first weight and bias; a weight into an active and an inactive hidden unit."""
        spec, run = self.spec, self.run
        L = spec.layers
        active = [j for j in range(spec.sizes[L - 1]) if run.dout_dnet[L - 1][0][j] != 0] if L > 1 else []
        chosen = [("W", L, 0, active[0] if active else 0), ("b", L, 0, None)]
        for l in range(L - 1, 0, -1):
            live = [j for j in range(spec.sizes[l]) if run.dout_dnet[l][0][j] != 0]
            dead = [j for j in range(spec.sizes[l]) if run.dout_dnet[l][0][j] == 0]
            for group in (live, dead):
                if group:
                    chosen.append(("W", l, group[0], 0))
        return chosen

    def chosen(self, detail) -> list[tuple]:
        if detail is None:
            return self.default_detail()
        names = self.parameter_names()
        if detail.strip() == "all":
            return list(dict.fromkeys(names.values()))
        if detail.strip() == "none":
            return []
        out = []
        for word in (w.strip() for w in detail.split(",") if w.strip()):
            if word not in names:
                raise DeriveError("--detail", f"unknown parameter '{word}'{suggestion(word, names)}")
            out.append(names[word])
        return out

    # -- tables ------------------------------------------------------------------------
    def matrix_tables(self, caption: str, matrix, row_label, col_label) -> list[Table]:
        """A matrix as tables of at most COLUMNS_PER_TABLE columns, narrow enough to fit the page."""
        rows, cols = len(matrix), len(matrix[0])
        widths = [max(width(self.w.num(matrix[r][c])) for r in range(rows)) for c in range(cols)]
        chunks = table_chunks(widths)
        width_ = math.ceil(cols / chunks)
        tables = []
        for start in range(0, cols, width_):
            stop = min(cols, start + width_)
            corner = M(r"j \backslash i") if self.spec.weight_layout == "out_in" else M(r"i \backslash j")
            header = (corner,) + tuple(M(col_label(c)) for c in range(start, stop))
            body = tuple((row_label(r),) + tuple(self.w.num(matrix[r][c]) for c in range(start, stop))
                         for r in range(rows))
            part = f", columns {start + 1} to {stop}" if chunks > 1 else ""
            tables.append(Table(header, body, ("math",) * (stop - start + 1), "l" + "r" * (stop - start),
                                caption + part))
        return tables

    def in_layout(self, matrix):
        """A (out x in) matrix in the spec's layout, with the spec's row/column labels."""
        if self.spec.weight_layout == "out_in":
            return matrix
        return tuple(zip(*matrix))

    def weight_tables(self, caption: str, l: int, matrix) -> list:
        """A weight-shaped matrix of layer l in the spec's layout, rows and columns labelled by unit number.

        What the rows and columns are is said in a line before the tables (a caption that long would be
        wider than a narrow table).
        """
        m = self.in_layout(matrix)
        below = "input i" if l == 1 else f"unit i of layer {l - 1}"
        if self.spec.weight_layout == "out_in":
            lead = f"{caption}, in the layout of W{l}: row j is unit j of layer {l}, column i is {below}."
        else:
            lead = f"{caption}, in the layout of W{l}: row i is {below}, column j is unit j of layer {l}."
        index = lambda k: str(k + 1)
        return [P(lead), *self.matrix_tables(caption, m, index, index)]

    def unit_tables(self, l: int, columns: list[tuple], caption: str) -> list[Table]:
        """One row per unit of layer l; columns are (header, values[s][j]) pairs, a column per sample.

        At most COLUMNS_PER_TABLE columns of numbers to a table, so that each fits the page.
        """
        spec = self.spec
        cells = [(title, values, s) for title, values in columns for s in range(spec.batch)]
        chunks = table_chunks([max([width(title) + (6 if spec.batch > 1 else 0)]
                                   + [width(self.w.num(values[s][j])) for j in range(spec.sizes[l])])
                               for title, values, s in cells])
        size = math.ceil(len(cells) / chunks)
        tables = []
        for start in range(0, len(cells), size):
            part = cells[start:start + size]
            header = ["unit"] + [M(title + (rf"\;(n = {s + 1})" if spec.batch > 1 else "")) for title, _, s in part]
            body = tuple((str(j + 1), *(self.w.num(values[s][j]) for _, values, s in part))
                         for j in range(spec.sizes[l]))
            tables.append(Table(tuple(header), body, ("text",) + ("math",) * len(part), "r" * len(header),
                                caption + (f", part {start // size + 1} of {chunks}" if chunks > 1 else "")))
        return tables

    def bias_table(self, caption: str, l: int, values, header: str) -> Table:
        return Table(("unit", M(header)), tuple((str(j + 1), self.w.num(values[j])) for j in range(self.spec.sizes[l])),
                     ("text", "math"), "rr", caption)

    # -- the network: its layout, its parameters and data --------------------------------
    def layout_blocks(self) -> list:
        """The weight layout in words: which index is the row, each W's shape, what the network computes."""
        spec, sizes = self.spec, self.spec.sizes
        L = spec.layers
        shapes = []
        for l in range(1, L + 1):
            rows, cols = (sizes[l], sizes[l - 1]) if self.columns else (sizes[l - 1], sizes[l])
            shapes += [", " if l > 1 else "", M(rf"W^{{[{l}]}}"), " is ", M(rf"{rows} \times {cols}")]
        j, i = (0, 1) if sizes[0] > 1 else (1, 0) if sizes[1] > 1 else (0, 0)  # an entry off the diagonal
        r, c = (j, i) if self.columns else (i, j)
        example = self.n.weight(1, j, i)
        connects = [
            "For example ", M(rf"{example.latex} = {self.w.num(self.run.weights[1][j][i])}"),
            f" (row {r + 1}, column {c + 1} of ", M("W^{[1]}"), ") is the weight from input ", M(f"x_{{{i + 1}}}"),
            f" to unit {j + 1} of layer 1.",
        ]
        l, l1 = M("l"), M("l-1")
        if self.columns:
            blocks = [P(
                "The weight layout (out_in, as torch.nn.Linear stores its weight): ", M("W^{[l]}"),
                " has one row per unit of layer ", l, " and one column per unit of layer ", l1, " (",
                M(r"\mathrm{out} \times \mathrm{in}"), "): ", *shapes, ". Its entry ", M(r"W^{[l]}_{j,i}"),
                " in row ", M("j"), ", column ", M("i"), " is the weight from unit ", M("i"), " of layer ", l1,
                " to unit ", M("j"), " of layer ", l, ", so row ", M("j"), " holds every weight into unit ", M("j"),
                ". ", *connects,
            )]
            blocks.append(P(
                "The network computes ", M(r"z^{[l]} = W^{[l]} a^{[l-1]} + b^{[l]}"), " with column vectors, ",
                M(r"a^{[0]} = x"), ": entry ", M("j"), " of the product is row ", M("j"), " of ", M(r"W^{[l]}"),
                " times the column of inputs. (torch.nn.Linear computes the same as ", M(r"x\, W^{\top} + b"),
                " on a row of inputs.)",
            ))
        else:
            blocks = [P(
                "The weight layout (in_out, as in x @ W): ", M("W^{[l]}"),
                " has one row per unit of layer ", l1, " and one column per unit of layer ", l, " (",
                M(r"\mathrm{in} \times \mathrm{out}"), "): ", *shapes, ". Its entry ", M(r"W^{[l]}_{i,j}"),
                " in row ", M("i"), ", column ", M("j"), " is the weight from unit ", M("i"), " of layer ", l1,
                " to unit ", M("j"), " of layer ", l, ", so column ", M("j"), " holds every weight into unit ",
                M("j"), ". ", *connects,
            )]
            blocks.append(P(
                "The network computes ", M(r"z^{[l]} = a^{[l-1]}\, W^{[l]} + b^{[l]}"), " with row vectors, ",
                M(r"a^{[0]} = x"), ", as code writes it with x @ W + b: entry ", M("j"), " of the product is the "
                "row of inputs times column ", M("j"), " of ", M(r"W^{[l]}"), ". (torch.nn.Linear stores the "
                "transpose, ", M(r"\mathrm{out} \times \mathrm{in}"), ", and computes ", M(r"x\, W^{\top} + b"), ".)",
            ))
        if self.batch:
            where = "column" if self.columns else "row"
            shape = rf"{sizes[0]} \times {spec.batch}" if self.columns else rf"{spec.batch} \times {sizes[0]}"
            blocks.append(P(
                f"The {spec.batch} samples are processed together, one {where} each: the inputs form the ",
                M(shape), " matrix ", M("X"), ", the net inputs and outputs of layer ", M("l"), " the matrices ",
                M(r"Z^{[l]}"), " and ", M(r"A^{[l]}"), ", with ", M(r"Z^{[l]} = " + self.times("W^{[l]}", "A^{[l-1]}")
                                                                    + r" + b^{[l]}"),
                f"; the bias is added to every {where}.",
            ))
        return blocks

    def starting_blocks(self) -> list:
        """The starting weights and biases: as matrices where they fit, else as tables."""
        blocks = []
        for l in range(1, self.spec.layers + 1):
            W = pmatrix(self.by_weight(lambda j, i: self.w.num(self.run.weights[l][j][i]), l)) \
                if self.fits_weight(l) else None
            b = self.vector(lambda j: self.w.num(self.run.biases[l][j]), self.spec.sizes[l])
            if W is None or b is None or W.width > LINE_WIDTH - 8 or b.width > LINE_WIDTH - 8:
                blocks += self.weight_tables(f"Starting weights W{l}", l, self.run.weights[l])
                blocks.append(self.bias_table(f"Starting biases b{l}", l, self.run.biases[l], f"b^{{[{l}]}}_j"))
                continue
            if W.width + b.width + 12 <= LINE_WIDTH:
                rows = ((f"W^{{[{l}]}}", "=", rf"{W.latex}, \qquad b^{{[{l}]}} = {b.latex}"),)
            else:
                rows = ((f"W^{{[{l}]}}", "=", W.latex), (f"b^{{[{l}]}}", "=", b.latex))
            blocks.append(Chain(rows))
        return blocks

    def data_blocks(self) -> list | None:
        """The inputs and targets as a vector (matrix) each; None when they are too big (a table shows them)."""
        spec = self.spec
        x = self.values(self.run.out[0], spec.sizes[0], "inputs")
        t = self.values(spec.targets, spec.sizes[-1], "targets")
        if x is None or t is None or x.width + t.width + 12 > LINE_WIDTH:
            return None
        lead = (f"The inputs and targets, one {'column' if self.columns else 'row'} per sample:" if self.batch
                else "The input and the target:")
        return [P(lead), Chain(((self.a(0), "=", rf"{x.latex}, \qquad {self.target()} = {t.latex}"),))]

    # -- the sections --------------------------------------------------------------------
    def formulas(self, l: int) -> dict:
        """Matrix formulas of layer l in the spec's layout."""
        sup = f"^{{[{l}]}}"
        prev = "x" if l == 1 else f"a^{{[{l - 1}]}}"
        mean = r"\tfrac{1}{N}\," if self.spec.batch > 1 and self.w.g.batch_weight != 1 else ""
        if self.spec.weight_layout == "in_out":
            return {
                "net": rf"z{sup} = {prev}\, W{sup} + b{sup}",
                "grad": rf"\partial E/\partial W{sup} = {mean}{{{prev}}}^{{\top}} \delta{sup}",
                "back": rf"\partial E/\partial a{sup} = \delta^{{[{l + 1}]}} (W^{{[{l + 1}]}})^{{\top}}",
            }
        return {
            "net": rf"z{sup} = W{sup} {prev} + b{sup}",
            "grad": rf"\partial E/\partial W{sup} = {mean}\delta{sup} {{{prev}}}^{{\top}}",
            "back": rf"\partial E/\partial a{sup} = (W^{{[{l + 1}]}})^{{\top}} \delta^{{[{l + 1}]}}",
        }

    def sections(self) -> list[Section]:
        return [self.forward(), self.loss_section(), self.backward(), self.details(), self.update()]

    # -- forward pass --------------------------------------------------------------------
    def forward(self) -> Section:
        spec = self.spec
        layers = [self.forward_layer(l) for l in range(1, spec.layers + 1)]
        vectors = "with column vectors, W on the left" if self.columns else "with row vectors, W on the right, as in x @ W"
        samples = (f", one {'column' if self.columns else 'row'} per sample" if self.batch else "")
        tables = any(isinstance(b, Table) for inner in layers for b in inner)
        blocks = [P(f"The forward pass in matrix form, layer by layer, {vectors}{samples}",
                    "; every entry is in the tables." if not self.typeset else
                    "; where a matrix is too big to print, every entry is in a table." if tables else ".")]
        for l, inner in enumerate(layers, start=1):
            blocks.append(Section(self.w.layer_title(l), 2, tuple(inner)))
        return Section("Forward pass", 1, tuple(blocks), "forward")

    def forward_layer(self, l: int) -> list:
        spec, run = self.spec, self.run
        act = self.g.activation(l)
        net, out = self.net_chain(l), self.out_chain(l)
        if net is not None and out is not None:
            each = "of the whole vector" if act.coupled else "of each entry"
            inner = [P("The net inputs, then the ", "output" if act.name == "identity" else f"{act.name} {each}", ":"),
                     net, out]
        else:
            f = act.latex.format(f"z^{{[{l}]}}")
            inner = [P(M(self.formulas(l)["net"]), ", ", M(rf"a^{{[{l}]}} = {f}"),
                       " of the whole vector." if act.coupled else " elementwise.")]
            inner += self.unit_tables(l, [(f"z^{{[{l}]}}_j", run.net[l]), (f"a^{{[{l}]}}_j", run.out[l])],
                                      f"Net inputs and outputs of {self.n.layer_name(l)}")
        if act.name == "relu":
            dead = [str(j + 1) for j in range(spec.sizes[l]) if all(run.net[l][s][j] <= 0 for s in range(spec.batch))]
            if dead:
                inner.append(P(f"Unit{'s' if len(dead) > 1 else ''} {', '.join(dead)} "
                               f"{'have' if len(dead) > 1 else 'has'} a net input of at most 0: ReLU sets "
                               f"{'their' if len(dead) > 1 else 'its'} output to 0, and "
                               f"{'they pass' if len(dead) > 1 else 'it passes'} no gradient back "
                               "(see the backward pass)."))
        units = sorted({key[2] for key in self.detail if key[1] == l})
        if units and net is None:
            inner.append(P("Written out for the units whose derivations follow in full:"))
            for j in units:
                inner += [self.w.net_chain(l, 0, j), self.w.out_chain(l, 0, j)]
        return inner

    def net_chain(self, l: int) -> Chain | None:
        """z = W a + b (a W + b) with the matrices, each entry's sum of products, and the result."""
        spec, run, num = self.spec, self.run, self.w.num
        n_in, size = spec.sizes[l - 1], spec.sizes[l]
        if not (self.fits_weight(l) and self.fits_sample(n_in) and self.fits_sample(size)):
            return None
        W = pmatrix(self.by_weight(lambda j, i: num(run.weights[l][j][i]), l))
        b = self.vector(lambda j: num(run.biases[l][j]), size)

        def entry(s, j):
            pairs = [(num(run.weights[l][j][i]), num(run.out[l - 1][s][i])) for i in range(n_in)]
            terms = [rf"{_paren(w)} \cdot {_paren(x)}" if self.columns else rf"{_paren(x)} \cdot {_paren(w)}"
                     for w, x in pairs]
            return " + ".join(terms + [_paren(num(run.biases[l][j]))])

        inputs = self.values(run.out[l - 1], n_in)
        steps = [[text(self.times(f"W^{{[{l}]}}", self.a(l - 1)) + f" + b^{{[{l}]}}")]]
        steps += self.optional(self.z(l), cat(W, inputs) if self.columns else cat(inputs, W), cat(text("+"), b))
        steps += self.optional(self.z(l), pmatrix(self.by_sample(entry, size)))
        steps.append([self.values(run.net[l], size)])
        return self.display(self.z(l), steps, [v for row in run.net[l] for v in row])

    def out_chain(self, l: int) -> Chain | None:
        """a = f(z), each entry with its number put in."""
        spec, run = self.spec, self.run
        act, size = self.g.activation(l), spec.sizes[l]
        if not self.fits_sample(size):
            return None
        steps = [[text(act.latex.format(self.z(l)))]]
        if act.name != "identity":
            entries = pmatrix(self.by_sample(lambda s, j: self.w.nums(self.g.out_definition(l, s, j)), size))
            steps += self.optional(self.a(l), entries)
        steps.append([self.values(run.out[l], size)])
        return self.display(self.a(l), steps, [v for row in run.out[l] for v in row])

    def optional(self, lhs: str, *terms: Piece | None) -> list:
        """A step shown only when each of its terms fits a line (the numbers put in, the entries written out)."""
        if any(term is None or term.width > LINE_WIDTH - width(lhs) - 4 for term in terms):
            return []
        return [list(terms)]

    # -- loss ----------------------------------------------------------------------------
    #: the squared-error losses: the coefficient of each squared entry, and whether it is t - a (else a - t)
    SQUARED = {"half_sse": (sp.Rational(1, 2), True), "sse": (sp.Integer(1), True), "mse": (sp.Integer(1), False)}

    def loss_section(self) -> Section:
        """The error vector, then the loss as the sum of its squared entries; other losses output by output."""
        spec, run, g = self.spec, self.run, self.g
        if self.typeset and spec.loss in ("cross_entropy", "bce"):
            return self.entropy_loss_section()
        if not self.typeset or spec.loss not in self.SQUARED:
            return self.w.loss_section()
        coefficient, target_first = self.SQUARED[spec.loss]
        L, K = spec.layers, spec.sizes[-1]
        targets = self.w.s.rules.lift(spec.targets)
        sign = 1 if target_first else -1
        errors = [[sign * (targets[s][k] - run.out[L][s][k]) for k in range(K)] for s in range(spec.batch)]
        t, a = self.target(), self.a(L)
        symbol = f"{t} - {a}" if target_first else f"{a} - {t}"
        given = [self.values(targets, K), self.values(run.out[L], K)]
        first, second = given if target_first else given[::-1]
        difference = self.display(symbol, [*self.optional(symbol, first, cat(text("-"), second)),
                                           [self.values(errors, K)]], [e for row in errors for e in row])
        factor = coefficient * g.output_weight * g.batch_weight
        scale = "" if factor == 1 else self.w.tex(factor) + r"\,"
        norm = rf"\lVert {symbol} \rVert" + ("_F" if self.batch else "") + "^{2}"
        squares = [rf"{_paren(self.w.num(e))}^{{2}}" for row in self.by_sample(lambda s, k: errors[s][k], K) for e in row]
        terms = [text(("" if k == 0 else "+ ") + sq) for k, sq in enumerate(squares)]
        if factor != 1:
            terms[0] = text(scale + r"\bigl(" + terms[0].latex)
            terms[-1] = text(terms[-1].latex + r"\bigr)")
        squared = [terms] if len(terms) <= MAX_SQUARES else []
        loss = self.display(self.n.loss().latex, [[text(scale + norm)], *squared, [text(self.w.num(run.loss))]],
                            [run.loss])
        lead = P("The error of every output" + (" and sample" if self.batch else "") + ":")
        if difference is None:  # too big to typeset: every entry in a table
            error = rf"t_k - a^{{[{L}]}}_k" if target_first else rf"a^{{[{L}]}}_k - t_k"
            errors_shown = [lead, *self.unit_tables(L, [(error, errors)], "The error of every output")]
        else:
            errors_shown = [lead, difference]
        return Section("Loss", 1, (
            *errors_shown,
            P("The loss is ", {"half_sse": "one half of the sum", "sse": "the sum", "mse": "the mean"}[spec.loss],
              " of the squares of its entries",
              *((" (the squared Frobenius norm ", M(r"\lVert \cdot \rVert_F^2"), ")") if self.batch else ()), ":"),
            loss,
        ), "loss")

    def entropy_loss_section(self) -> Section:
        """A cross-entropy loss in matrix form: the logarithms of the outputs, then the weighted sum of the terms."""
        spec, run, g = self.spec, self.run, self.g
        L, K, num = spec.layers, spec.sizes[-1], self.w.num
        targets = self.w.s.rules.lift(spec.targets)
        logs = [[MP.log(to_mp(o)) for o in row] for row in run.out[L]]
        a, t = self.a(L), self.target()

        def matrix(name: str, entry: str, values, caption: str):
            """The values as a matrix where it fits, else as a table unit by unit."""
            chain = self.display(name, [[self.values(values, K)]], [v for row in values for v in row])
            return chain if chain is not None else self.unit_tables(L, [(entry, values)], caption)[0]

        blocks = [P("The logarithm of every output" + (" and sample" if self.batch else "") + ":"),
                  matrix(rf"\ln {a}", rf"\ln a^{{[{L}]}}_k", logs, "The logarithms of the outputs")]
        if spec.loss == "bce":
            # binary cross-entropy also needs the logarithm of each output's complement
            rest = [[MP.log(1 - to_mp(o)) for o in row] for row in run.out[L]]
            blocks += [P("and of one minus every output:"),
                       matrix(rf"\ln(1 - {a})", rf"\ln(1 - a^{{[{L}]}}_k)", rest, "The logarithms of one minus the outputs")]
        factor = g.output_weight * g.batch_weight
        scale = "" if factor == 1 else self.w.tex(factor) + r"\,"
        if spec.loss == "cross_entropy":
            formula = (rf"-{scale}\sum_n (t^{{(n)}})^{{\top}} \ln a^{{[{L}]\,(n)}}" if self.batch
                       else rf"-{t}^{{\top}} \ln {a}")
            entry = lambda s, k: rf"{_paren(num(targets[s][k]))} \cdot {_paren(num(logs[s][k]))}"
            words = ("minus the targets times the logarithms, summed" + (" and averaged over the samples" if self.batch else ""),)
        else:
            n = "^{(n)}" if self.batch else ""
            formula = (rf"-{scale}\sum_{{{'n, ' if self.batch else ''}k}} \bigl(t{n}_k \ln a{n}_k"
                       rf" + (1 - t{n}_k) \ln(1 - a{n}_k)\bigr)")
            entry = lambda s, k: (rf"{_paren(num(targets[s][k]))} \cdot {_paren(num(logs[s][k]))} + "
                                  rf"{_paren(num(1 - targets[s][k]))} \cdot {_paren(num(rest[s][k]))}")
            words = ("minus the mean, over every output" + (" and sample" if self.batch else "") + ", of ",
                     M(r"t \ln a + (1 - t) \ln(1 - a)"))
        entries = [entry(s, k) for s in range(spec.batch) for k in range(K)]
        terms = [text(("-" + scale + r"\bigl(" if k == 0 else "+ ") + e + (r"\bigr)" if k == len(entries) - 1 else ""))
                 for k, e in enumerate(entries)]
        steps = [[text(formula)], *([terms] if len(terms) <= MAX_SQUARES else []), [text(num(run.loss))]]
        blocks += [P("The loss is ", *words, ":"), self.display(self.n.loss().latex, steps, [run.loss])]
        return Section("Loss", 1, tuple(b for b in blocks if b is not None), "loss")

    # -- backward pass -------------------------------------------------------------------
    def backward(self) -> Section:
        spec = self.spec
        L = spec.layers
        lead = [
            "The backward pass in matrix form. ", M(r"\delta^{[l]} = \partial E/\partial z^{[l]}"),
            " is the vector of the units' deltas; ", M(r"\odot"), " multiplies entry by entry.",
        ]
        if self.batch:
            mean = self.g.batch_weight != 1
            lead += [
                f" With {spec.batch} samples, ", M(r"\Delta^{[l]}"), f" holds one {'column' if self.columns else 'row'} "
                "per sample: the deltas of that sample's own loss ", M(r"E^{(n)}"), ". The gradient is then ",
                "the mean over the samples, a step of its own." if mean else "the sum over the samples.",
            ]
        blocks = [P(*lead)]
        for l in range(L, 0, -1):
            inner = self.output_delta_blocks(l) if l == L else self.hidden_delta_blocks(l)
            inner += self.gradient_blocks(l)
            blocks.append(Section(self.w.layer_title(l), 2, tuple(inner)))
        return Section("Backward pass", 1, tuple(blocks), "backward")

    def relu_note(self, l: int) -> list:
        """Where the ReLU derivative is tested: on the net input, not the output."""
        if self.g.activation(l).name != "relu":
            return []
        return [P(
            "The ReLU derivative is the mask ", M(rf"[z^{{[{l}]}} > 0]"),
            " on the net input (0 at exactly 0, as in PyTorch). A mask that tests the output for being "
            "negative, as the manual backward pass of the first source document does after the ReLU, "
            "is never true, since ", M(r"a = \max(0, z) \ge 0"),
            ": it masks nothing, and every inactive unit wrongly passes gradient back.",
        )]

    def names(self, l: int) -> dict:
        """The placeholders of the activation and loss formulas, written for layer l's vectors."""
        return {fn.a: self.a(l), fn.z: self.z(l), fn.t: self.target()}

    def entries(self, l: int, formula) -> Piece | None:
        """formula(s, j), a SymPy expression in the graph's symbols, with the numbers put in, for every entry."""
        if not self.fits_sample(self.spec.sizes[l]):
            return None
        return pmatrix(self.by_sample(lambda s, j: self.w.nums(formula(s, j)), self.spec.sizes[l]))

    def output_delta_blocks(self, l: int) -> list:
        """delta of the output layer: dE/da from the loss, times the activation's derivative entry by entry.

        The one place the output layer's delta is derived in matrix form.
        """
        spec, run, g, d = self.spec, self.run, self.g, self.w.d
        act, size = g.activation(l), spec.sizes[l]
        if act.coupled:
            return self.softmax_delta_blocks(l)
        if not self.fits_sample(size):
            return self.delta_table_blocks(l)
        rules = self.w.s.rules
        dloss = self.elementwise(sp.factor_terms(rules.dloss), self.names(l))
        flat = lambda values: [v for row in values for v in row]
        dE_steps = [[text(dloss)]]
        dE_steps += self.optional(self.dE_da(l), self.entries(l, lambda s, j: d.unit(l, s, j).dE_dout.general))
        dE_steps.append([self.values(run.dE_dout[l], size)])
        if act.name == "identity":
            chain = self.display(self.delta(l), [[text(self.dE_da(l))], *dE_steps], flat(run.delta[l]))
            return [P("The identity's derivative is 1, so the delta is the derivative of the loss:"), chain]
        blocks = [P("How the loss changes with the outputs, from the loss formula, entry by entry:"),
                  self.display(self.dE_da(l), dE_steps, flat(run.dE_dout[l]))]
        blocks += self.derivative_blocks(l)
        if spec.loss == "bce" and act.name == "sigmoid":
            # the textbook simplification, derived here from the two factors rather than asserted
            simplified = sp.factor(sp.simplify(rules.dloss * act.identity))
            at = lambda s, j: simplified.xreplace({fn.a: g.out(l, s, j), fn.t: g.t(s, j)})
            steps = [[text(rf"{self.dE_da(l)} \odot {act.derivative_latex.format(self.z(l))}")],
                     [text(self.elementwise(simplified, self.names(l)))]]
            steps += self.optional(self.delta(l), self.entries(l, at))
            steps.append([self.values(run.delta[l], size)])
            K = spec.sizes[-1]
            blocks += [P("Their product is the delta. With a sigmoid output and the binary cross-entropy the factors "
                         "cancel entry by entry, leaving the error " +
                         (f"divided by the number of outputs (the loss is their mean, K = {K}):" if K > 1
                          else "itself:")),
                       self.display(self.delta(l), steps, flat(run.delta[l]))]
            return blocks
        return blocks + self.delta_product(l)

    def softmax_delta_blocks(self, l: int) -> list:
        """delta of a softmax layer: the Jacobian diag(a) - a a^T times dE/da; with the cross-entropy, a - t."""
        spec, run, K, N = self.spec, self.run, self.spec.sizes[l], self.spec.batch
        flat = lambda values: [v for row in values for v in row]
        a, t = self.a(l), self.target()
        J = rf"\frac{{\partial a^{{[{l}]}}}}{{\partial z^{{[{l}]}}}}"
        blocks = [P(
            "The softmax couples the outputs: each depends on every net input of the layer. Its Jacobian is ",
            M(rf"{J} = \operatorname{{diag}}(a^{{[{l}]}}) - a^{{[{l}]}} (a^{{[{l}]}})^{{\top}}"),
            " (entry (k, j): ", M(r"a_k ([k = j] - a_j)"), ", where ", M("[k = j]"), " is 1 on the diagonal and 0 off it), a symmetric matrix, so ",
            M(rf"\delta^{{[{l}]}} = {J}\, \partial E/\partial a^{{[{l}]}}" if self.columns
              else rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}}\, {J}"),
            (" for each sample" if N > 1 else ""), ": every output's derivative, weighted by how that output "
            "moves with each net input.",
        )]
        fits = self.fits_sample(K) and K <= MATRIX_ROWS and K <= COLUMNS_PER_TABLE
        num = self.w.num
        jacobians = [pmatrix([[num(run.jacobian[l][s][k][j]) for j in range(K)] for k in range(K)]) for s in range(N)]
        if spec.loss == "cross_entropy":
            if fits:
                for s in range(N):
                    note = rf"^{{({s + 1})}}" if N > 1 else ""
                    chain = self.display(J, [[jacobians[s]]], flat(run.jacobian[l][s]))
                    if chain is not None:
                        blocks += [P(f"The Jacobian of sample {s + 1}:" if N > 1 else "The Jacobian:"), chain]
            blocks.append(P(
                "With the cross-entropy, ", M(r"\partial E/\partial a = -t \oslash a"), " entry by entry, and the "
                "product reduces to ", M(r"a \sum_k t_k - t = a - t"), ", since the targets of a sample sum to 1 "
                "(SymPy's reduction, shown for each unit in the derivations below):",
            ))
            steps = [[text(f"{a} - {t}")],
                     *self.optional(self.delta(l), self.values(run.out[l], K), text("-"),
                                    self.values(self.w.s.rules.lift(spec.targets), K)),
                     [self.values(run.delta[l], K)]]
            chain = self.display(self.delta(l), steps, flat(run.delta[l])) if fits else None
            if chain is None:
                return blocks + self.softmax_table_blocks(l)
            return blocks + [chain]
        if not fits:
            return blocks + self.softmax_table_blocks(l)
        rules = self.w.s.rules
        dE_steps = [[text(self.elementwise(sp.factor_terms(rules.dloss), self.names(l)))],
                    [self.values(run.dE_dout[l], K)]]
        blocks += [P("How the loss changes with the outputs, from the loss formula, entry by entry:"),
                   self.display(self.dE_da(l), dE_steps, flat(run.dE_dout[l]))]
        for s in range(N):
            jac = jacobians[s]
            upstream = pmatrix([[num(v)] for v in run.dE_dout[l][s]] if self.columns else [[num(v) for v in run.dE_dout[l][s]]])
            result = pmatrix([[num(v)] for v in run.delta[l][s]] if self.columns else [[num(v) for v in run.delta[l][s]]])
            note = rf"^{{({s + 1})}}" if N > 1 else ""
            lhs = rf"\delta^{{[{l}]{note}}}" if N > 1 else self.delta(l)
            product = cat(jac, upstream) if self.columns else cat(upstream, jac)
            chain = self.display(lhs, [[text(rf"{J} \cdot \partial E{note}/\partial a^{{[{l}]}}")],
                                       [product], [result]], run.delta[l][s])
            if chain is None:
                return blocks + self.softmax_table_blocks(l)
            blocks += [P(f"Sample {s + 1}: the Jacobian with its numbers, times the derivative of the loss:"
                         if N > 1 else "The Jacobian with its numbers, times the derivative of the loss:"), chain]
        return blocks

    def softmax_table_blocks(self, l: int) -> list:
        """A softmax layer too wide for matrices: each unit's delta in a table, beside what it is made of."""
        run, spec = self.run, self.spec
        columns = [(rf"\partial E/\partial a^{{[{l}]}}_j", run.dE_dout[l]), (rf"a^{{[{l}]}}_j", run.out[l])]
        if spec.loss == "cross_entropy":
            columns.append(("t_j", self.w.s.rules.lift(spec.targets)))
        columns.append((rf"\delta^{{[{l}]}}_j", run.delta[l]))
        formula = (rf"\delta^{{[{l}]}}_j = a^{{[{l}]}}_j - t_j" if spec.loss == "cross_entropy" else
                   rf"\delta^{{[{l}]}}_j = \sum_k \frac{{\partial E}}{{\partial a^{{[{l}]}}_k}}\, a^{{[{l}]}}_k "
                   rf"(\delta_{{kj}} - a^{{[{l}]}}_j)")
        return [P("Unit by unit: ", M(formula), ".")] + self.unit_tables(l, columns, f"The deltas of {self.n.layer_name(l)}")

    def hidden_delta_blocks(self, l: int) -> list:
        """delta of a hidden layer: every path through the layer above, then the activation's derivative."""
        spec, run = self.spec, self.run
        size, above = spec.sizes[l], spec.sizes[l + 1]
        if not (self.fits_sample(size) and self.fits_sample(above) and self.fits_weight(l + 1)):
            return self.delta_table_blocks(l)
        num = self.w.num
        WT = pmatrix(transposed(self.by_weight(lambda k, j: num(run.weights[l + 1][k][j]), l + 1)))
        deltas = self.values(run.delta[l + 1], above)

        def entry(s, j):
            pairs = [(num(run.weights[l + 1][k][j]), num(run.delta[l + 1][s][k])) for k in range(above)]
            return " + ".join(rf"{_paren(w)} \cdot {_paren(x)}" if self.columns else rf"{_paren(x)} \cdot {_paren(w)}"
                              for w, x in pairs)

        Wt = self.T(f"W^{{[{l + 1}]}}")
        steps = [[text(self.times(Wt, self.delta(l + 1)))]]
        steps += self.optional(self.dE_da(l), cat(WT, deltas) if self.columns else cat(deltas, WT))
        steps += self.optional(self.dE_da(l), pmatrix(self.by_sample(entry, size)))
        steps.append([self.values(run.dE_dout[l], size)])
        if self.columns:
            where = ["row j of ", M(Wt), " (column j of ", M(f"W^{{[{l + 1}]}}"), ")"]
        else:
            where = ["column j of ", M(Wt), " (row j of ", M(f"W^{{[{l + 1}]}}"), ")"]
        blocks = [P("Every path through the layer above, all at once: ", *where,
                    " holds the weights out of unit j, one for each path, and each is multiplied by the delta at "
                    "its end:"),
                  self.display(self.dE_da(l), steps, [v for row in run.dE_dout[l] for v in row])]
        return blocks + self.derivative_blocks(l) + self.delta_product(l)

    def derivative_blocks(self, l: int) -> list:
        """f'(z) of layer l in its taught form, each entry with its number put in."""
        act, run = self.g.activation(l), self.run
        fprime = act.derivative_latex.format(self.z(l))
        steps = [[text(self.elementwise(act.identity, self.names(l)))]]
        steps += self.optional(fprime, self.entries(l, lambda s, j: self.w.d.unit(l, s, j).dout_dnet.general))
        steps.append([self.values(run.dout_dnet[l], self.spec.sizes[l])])
        return self.relu_note(l) + [P("The derivative of the activation, entry by entry:"),
                                    self.display(fprime, steps, [v for row in run.dout_dnet[l] for v in row])]

    def delta_product(self, l: int) -> list:
        """delta = dE/da (entry by entry) times f'(z)."""
        act, run, size = self.g.activation(l), self.run, self.spec.sizes[l]
        fprime = act.derivative_latex.format(self.z(l))
        steps = [[text(rf"{self.dE_da(l)} \odot {fprime}")],
                 *self.optional(self.delta(l), self.values(run.dE_dout[l], size),
                                cat(text(r"\odot"), self.values(run.dout_dnet[l], size))),
                 [self.values(run.delta[l], size)]]
        return [P("Their product, entry by entry, is the delta:"),
                self.display(self.delta(l), steps, [v for row in run.delta[l] for v in row])]

    def delta_table_blocks(self, l: int) -> list:
        """The deltas of a layer too wide for matrices: the formulas, and every entry in a table."""
        run, L = self.run, self.spec.layers
        act = self.g.activation(l)
        fprime = act.derivative_latex.format(rf"z^{{[{l}]}}")
        if l == L and act.name == "identity":
            inner = [P(M(rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}}"), " (the identity's derivative is 1), "
                       "with ", M(rf"\partial E/\partial a^{{[{l}]}}"), " from the loss:")]
        elif l == L:
            inner = [P(M(rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}} \odot {fprime}"),
                       ", with ", M(rf"\partial E/\partial a^{{[{l}]}}"), " from the loss:")]
        else:
            inner = [P(M(self.formulas(l)["back"]), " (every path through the layer above), then ",
                       M(rf"\delta^{{[{l}]}} = \partial E/\partial a^{{[{l}]}} \odot {fprime}"), ".")]
        inner += self.relu_note(l)
        inner += self.unit_tables(l, [
            (rf"\partial E/\partial a^{{[{l}]}}_j", run.dE_dout[l]),
            (act.derivative_latex.format(f"z^{{[{l}]}}_j") if act.name != "identity" else f"f'(z^{{[{l}]}}_j)",
             run.dout_dnet[l]),
            (rf"\delta^{{[{l}]}}_j", run.delta[l]),
        ], f"The deltas of {self.n.layer_name(l)}")
        return inner

    def gradient_blocks(self, l: int) -> list:
        """dE/dW as the outer product of the delta and the layer's input, dE/db; the batch mean as its own step."""
        spec, run, num = self.spec, self.run, self.w.num
        n_in, size, N = spec.sizes[l - 1], spec.sizes[l], spec.batch
        act = self.g.activation(l)
        prev = self.a(l - 1)
        mean = self.batch and self.g.batch_weight != 1
        outer = (f"a {size} x {n_in}" if self.columns else f"a {n_in} x {size}") + f" matrix in the layout of W{l}"
        zero = ""
        if act.name == "relu":
            zero = " The rows of inactive units are zero." if self.columns else " The columns of inactive units are zero."
        if not (self.fits_weight(l) and self.fits_sample(n_in) and self.fits_sample(size)):
            return self.gradient_table_blocks(l, outer, zero)
        summed_W = [[sum((run.delta[l][s][j] * run.out[l - 1][s][i] for s in range(1, N)),
                         run.delta[l][0][j] * run.out[l - 1][0][i]) for i in range(n_in)] for j in range(size)]
        summed_b = [sum((run.delta[l][s][j] for s in range(1, N)), run.delta[l][0][j]) for j in range(size)]
        a_T = pmatrix(transposed(self.by_sample(lambda s, i: num(run.out[l - 1][s][i]), n_in)))
        deltas = self.values(run.delta[l], size)

        def entry(j, i):
            pairs = [(num(run.delta[l][s][j]), num(run.out[l - 1][s][i])) for s in range(N)]
            return " + ".join(rf"{_paren(d)} \cdot {_paren(x)}" if self.columns else rf"{_paren(x)} \cdot {_paren(d)}"
                              for d, x in pairs)

        dW, db = rf"\frac{{\partial E}}{{\partial W^{{[{l}]}}}}", rf"\frac{{\partial E}}{{\partial b^{{[{l}]}}}}"
        sum_W = rf"\sum_n \frac{{\partial E^{{(n)}}}}{{\partial W^{{[{l}]}}}}" if self.batch else dW
        sum_b = rf"\sum_n \frac{{\partial E^{{(n)}}}}{{\partial b^{{[{l}]}}}}" if self.batch else db
        general = (f"{self.delta(l)} {self.T(prev)}" if self.columns else f"{self.T(prev)} {self.delta(l)}")
        steps = [[text(general)], *self.optional(sum_W, cat(deltas, a_T) if self.columns else cat(a_T, deltas))]
        steps += self.optional(sum_W, pmatrix(self.by_weight(entry, l)))
        steps.append([pmatrix(self.by_weight(lambda j, i: num(summed_W[j][i]), l))])
        weights_chain = self.display(sum_W if mean else dW, steps, [v for row in summed_W for v in row])
        if self.batch:
            b_steps = [[text(rf"\sum_n \delta^{{[{l}](n)}}")]]
            b_steps += self.optional(sum_b, self.vector(
                lambda j: " + ".join(_paren(num(run.delta[l][s][j])) for s in range(N)), size))
        else:
            b_steps = [[text(self.delta(l))]]
        b_steps.append([self.vector(lambda j: num(summed_b[j]), size)])
        bias_chain = self.display(sum_b if mean else db, b_steps, summed_b)
        if weights_chain is None or bias_chain is None:
            return self.gradient_table_blocks(l, outer, zero)
        where = "(j, i)" if self.columns else "(i, j)"
        single = "x" if l == 1 else f"a^{{[{l - 1}]}}"
        product = (rf"\delta^{{[{l}]}}_j \, {single}_i" if self.columns else rf"{single}_i \, \delta^{{[{l}]}}_j")
        blocks = [P(
            "The gradient of the weights is an outer product, the delta times the layer's input: entry ", M(where),
            " is ", M(product),
            ", summed over the samples by the matrix product" if self.batch else "", f", {outer}.{zero}",
            " The gradient of the biases is the delta" + (", summed over the samples:" if self.batch else ":"),
        ), weights_chain, bias_chain]
        if mean:
            N_tex = self.w.tex(self.g.batch_weight)
            blocks.append(P(f"The loss is the mean over the {N} samples, so the gradient is the mean of theirs:"))
            blocks.append(self.display(dW, [
                [text(rf"{N_tex} {sum_W}")],
                *self.optional(dW, cat(text(N_tex), pmatrix(self.by_weight(lambda j, i: num(summed_W[j][i]), l)))),
                [pmatrix(self.by_weight(lambda j, i: num(run.grad_W[l][j][i]), l))],
            ], [v for row in run.grad_W[l] for v in row]))
            blocks.append(self.display(db, [
                [text(rf"{N_tex} {sum_b}")],
                *self.optional(db, cat(text(N_tex), self.vector(lambda j: num(summed_b[j]), size))),
                [self.vector(lambda j: num(run.grad_b[l][j]), size)],
            ], run.grad_b[l]))
        return blocks

    def gradient_table_blocks(self, l: int, outer: str, zero: str) -> list:
        """The gradient of a layer too wide for matrices: the formulas, and every entry in tables."""
        spec, run = self.spec, self.run
        prev = "x" if l == 1 else f"a^{{[{l - 1}]}}"
        inner = [P(M(self.formulas(l)["grad"]), " and ",
                   M(rf"\partial E/\partial b^{{[{l}]}} = " + (r"\tfrac{1}{N}\sum_n " if spec.batch > 1 and self.g.batch_weight != 1 else "")
                     + rf"\delta^{{[{l}]}}"), ":")]
        inner.append(P(
            "This is an outer product: entry ", M("(i, j)") if spec.weight_layout == "in_out" else M("(j, i)"),
            " is ", M(rf"{prev}_i \, \delta^{{[{l}]}}_j"), (", summed over the samples" if spec.batch > 1 else ""),
            f", {outer}.{zero}",
        ))
        inner += self.weight_tables(f"Gradient with respect to W{l}", l, run.grad_W[l])
        inner.append(self.bias_table(f"Gradient with respect to b{l}", l, run.grad_b[l],
                                     rf"\partial E/\partial b^{{[{l}]}}_j"))
        return inner

    # -- details and update ----------------------------------------------------------------
    def details(self) -> Section:
        spec, run = self.spec, self.run
        hidden = "the hidden layer" if spec.layers == 2 else "each hidden layer"
        inactive = any(run.dout_dnet[l][0][j] == 0 for l in range(1, spec.layers) for j in range(spec.sizes[l]))
        into = "an active and into an inactive unit" if inactive else "its first unit"
        blocks = [P(
            "The same numbers, derived factor by factor for ",
            "the parameters chosen with the detail option." if self.w.detail else
            "a few parameters: in the output layer a weight and the bias"
            + (f", and in {hidden} a weight into {into}" if spec.layers > 1 else "")
            + " (the detail option chooses others).",
        )]
        if not self.detail:
            blocks.append(P("No parameter was chosen."))
        done_units = set()
        for kind, l, j, i in self.detail:
            name = self.n.weight(l, j, i) if kind == "W" else self.n.bias(l, j)
            inner = []
            for s in range(self.spec.batch):
                if (l, s, j) not in done_units:
                    inner += self.w.unit_blocks(l, s, j)
                    done_units.add((l, s, j))
            inner += self.w.gradient_blocks(kind, l, j, i)
            if kind == "W" or self.spec.update_biases:
                inner.append(self.w.update_chain(kind, l, j, i))
            blocks.append(Section(f"The parameter {name.text.replace('_', ' ')}", 2, tuple(inner),
                                  heading=P("The parameter ", M(name.latex))))
        return Section("Selected derivations in full", 1, tuple(blocks), "details")

    def update(self) -> Section:
        if optimizer.active(self.w.s):  # another optimizer: its own lines (derive.documents.optimizer)
            return optimizer.update_section(self.w)
        spec = self.spec
        blocks = [P("Each parameter moves against its gradient: ",
                    M(r"W^{+} = W - \eta\, \partial E/\partial W"), ", with ",
                    M(r"\eta = " + self.w.num(spec.learning_rate)), ".")]
        for l in range(spec.layers, 0, -1):
            blocks += self.update_blocks(l)
        if not spec.update_biases:
            blocks.append(P("The biases keep their values: this convention does not update them."))
        blocks.append(self.w.after_step())
        return Section("Update", 1, tuple(blocks), "update")

    def update_blocks(self, l: int) -> list:
        """W+ = W - eta dE/dW of layer l (and b+), as matrices where they fit, else as tables."""
        spec, run, num = self.spec, self.run, self.w.num
        size, eta = spec.sizes[l], num(spec.learning_rate)
        weights = None
        if self.fits_weight(l):
            W = lambda values: pmatrix(self.by_weight(lambda j, i: num(values[j][i]), l))
            lhs = f"{{W^{{[{l}]}}}}^{{+}}"
            weights = self.display(lhs, [
                [text(rf"W^{{[{l}]}} - \eta \, \frac{{\partial E}}{{\partial W^{{[{l}]}}}}")],
                *self.optional(lhs, W(run.weights[l]), cat(text(rf"- {eta}"), W(run.grad_W[l]))),
                [W(run.new_weights[l])],
            ], [v for row in run.new_weights[l] for v in row])
        if weights is None:
            blocks = self.weight_tables(f"W{l} after the update", l, run.new_weights[l])
        else:
            blocks = [weights]
        if not spec.update_biases:
            return blocks
        b = lambda values: self.vector(lambda j: num(values[j]), size)
        lhs = f"{{b^{{[{l}]}}}}^{{+}}"
        biases = self.display(lhs, [
            [text(rf"b^{{[{l}]}} - \eta \, \frac{{\partial E}}{{\partial b^{{[{l}]}}}}")],
            *self.optional(lhs, b(run.biases[l]), cat(text(rf"- {eta}"), b(run.grad_b[l]))),
            [b(run.new_biases[l])],
        ], run.new_biases[l])
        if biases is None:
            return blocks + [self.bias_table(f"b{l} after the update", l, run.new_biases[l], f"b^{{[{l}]+}}_j")]
        return blocks + [biases]
