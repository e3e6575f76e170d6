"""The context of the matrix form: the shared context, plus the layout's vectors and matrices and how they print.

Written for the ``matrix`` notation and for every large network. Vectors are columns
with W on the left (``out_in``, as torch.nn.Linear) or rows with W on the right
(``in_out``, as ``x @ W``); with several samples the sample index is a column or a row.
A matrix is typeset with its numbers when it fits a line of the page, else the caller
shows a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from derive.core import functions as fn
from derive.documents.context import FULL_WIDTH, Context
from derive.documents.layout import COLUMNS_PER_TABLE, LINE_WIDTH, MATRIX_ROWS, Piece, cat, pmatrix, width
from derive.documents.matrix.detail import chosen
from derive.documents.model import Chain
from derive.documents.printing import DerivePrinter, column


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


@dataclass(frozen=True)
class MatrixContext(Context):
    """A :class:`Context` that also knows the matrix form's symbols, layout and which parameters are detailed."""

    @cached_property
    def detail(self) -> list[tuple]:
        """The parameters whose scalar derivation is written out in full (the option ``detail``)."""
        return chosen(self, self.options.detail)

    @property
    def columns(self) -> bool:
        """out_in: vectors are columns and W multiplies from the left; in_out: rows, and a W."""
        return self.spec.weight_layout == "out_in"

    @property
    def batch(self) -> bool:
        return self.spec.batch > 1

    @property
    def typeset(self) -> bool:
        """Matrices with their numbers are typeset in the matrix notation; a large network otherwise keeps its tables."""
        return self.s.matrix_form

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

    def vector_of(self, value, size: int) -> Piece | None:
        """value(j) for every unit of a layer, numbers printed in one format, as a column or a row."""
        return pmatrix(self.grid(self.by_unit(value, size))) if self.typeset else None

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
            return pmatrix(self.grid(self.by_sample(lambda s, j: values[s][j], size),
                                     self.by_sample(lambda s, j: f"{place}[{s}][{j}]", size)))
        # one number format for the whole matrix: its columns line up on the decimal point
        return pmatrix(self.grid(self.by_sample(lambda s, j: values[s][j], size)))

    def relation(self, values) -> str:
        """= when every printed value is exact, \\approx when one of them was rounded."""
        # the values print as one matrix, in one format (Context.grid): rounded or not as that format prints them
        return r"\approx" if any(s.rounded for s in column(list(values), self.digits)) else "="

    @property
    def line_width(self) -> float:
        """A displayed line's width in digit widths: the page's, or a slide's full width where the options give
        the width of the column beside a slide's diagram (a 16:9 frame holds fewer digits than a page)."""
        beside = self.options.line_width
        return min(LINE_WIDTH, beside * FULL_WIDTH) if beside else LINE_WIDTH

    def display(self, lhs: str, steps: list, values) -> Chain | None:
        """lhs = step = ... = result, each step a list of terms; a line breaks between terms when it is full.

        The last step is the result, and ``values`` its exact entries: its relation is = only when
        every one of them prints exactly. A step the same as the one before, or with a term wider
        than a line, is left out. None when the result is too wide for a line, or a matrix too big
        to typeset: the caller shows a table instead.
        """
        if steps[-1] is None or None in steps[-1]:
            return None
        room = self.line_width - width(lhs) - 2
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

    def optional(self, lhs: str, *terms: Piece | None) -> list:
        """A step shown only when each of its terms fits a line (the numbers put in, the entries written out)."""
        if any(term is None or term.width > self.line_width - width(lhs) - 4 for term in terms):
            return []
        return [list(terms)]

    def names(self, l: int) -> dict:
        """The placeholders of the activation and loss formulas, written for layer l's vectors."""
        return {fn.a: self.a(l), fn.z: self.z(l), fn.t: self.target()}

    def entries(self, l: int, formula) -> Piece | None:
        """formula(s, j), a SymPy expression in the graph's symbols, with the numbers put in, for every entry."""
        if not self.fits_sample(self.spec.sizes[l]):
            return None
        return pmatrix(self.by_sample(lambda s, j: self.nums(formula(s, j)), self.spec.sizes[l]))

    def formulas(self, l: int) -> dict:
        """Matrix formulas of layer l in the spec's layout."""
        sup = f"^{{[{l}]}}"
        prev = "x" if l == 1 else f"a^{{[{l - 1}]}}"
        mean = r"\tfrac{1}{N}\," if self.spec.batch > 1 and self.g.batch_weight != 1 else ""
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
