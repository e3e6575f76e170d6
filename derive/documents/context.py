"""What every part of a worked solution reads: the solution's names and numbers, the options, and printing.

The scalar writer (derive.documents.scalar), the matrix writer (derive.documents.matrix),
the network's description (derive.documents.network) and the slides all receive a
:class:`Context` and nothing else; none of them holds a reference to another.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.core.expressions import latex as written_latex
from derive.core.solve import Solution
from derive.documents.layout import LINE_WIDTH, broken, width
from derive.documents.model import Chain
from derive.documents.options import Options
from derive.documents.printing import column, latex, shown, with_numbers

#: terms per displayed line in a long weighted sum, so that no line runs off the page
TERMS_PER_LINE = 3
#: how much wider a frame's full width is than the column beside a diagram
FULL_WIDTH = 1.6


def is_large(solution: Solution) -> bool:
    """True when the scalar form would be unreadable: written in matrix form instead."""
    spec = solution.spec
    return max(spec.sizes) > 6 or spec.parameter_count > 60


def in_matrix_form(solution: Solution) -> bool:
    """True when the document is written with vectors and matrices: the matrix notation, or a large network."""
    return solution.matrix_form or is_large(solution)


@dataclass(frozen=True)
class Context:
    """One solution as the documents print it: its names, graph, chain-rule records and numbers, and the options."""

    solution: Solution
    options: Options = Options()

    @property
    def s(self) -> Solution:
        return self.solution

    @property
    def spec(self):
        return self.solution.spec

    @property
    def n(self):
        """The names the documents print."""
        return self.solution.document_names

    @property
    def g(self):
        """The symbolic graph in those names."""
        return self.solution.document_graph

    @property
    def d(self):
        """The chain-rule records in those names (each built once)."""
        return self.solution.document_derivation

    @property
    def run(self):
        """Every number of the first step."""
        return self.solution.first

    @property
    def digits(self) -> int:
        return self.options.digits

    @property
    def book(self):
        """The textbook convention the documents speak (derive.core.conventions), or None."""
        return self.n.convention

    @property
    def eta(self) -> str:
        """The learning rate's symbol: the book's, or eta."""
        return self.book.rate.latex if self.book else r"\eta"

    # -- printing ----------------------------------------------------------------------
    def num(self, x) -> str:
        """A value as printed, in LaTeX."""
        return shown(x, self.digits).latex

    def column(self, values, places=None) -> list[str]:
        """Numbers of one table column, or of one matrix, in one format: the same decimals for every entry.

        With ``places`` (the spec's key of each value), a given number written as a constant keeps its
        written form (1 + sin(pi/4)); the others are formatted together.
        """
        values = list(values)
        written = [self.spec.written_as(p) for p in places] if places is not None else [None] * len(values)
        shown_ = iter(column([x for x, w in zip(values, written) if w is None], self.digits))
        return [written_latex(w) if w is not None else next(shown_).latex for w in written]

    def grid(self, rows, places=None) -> list[list[str]]:
        """A matrix (a list of rows) of numbers in one format (see :meth:`column`)."""
        rows = [list(r) for r in rows]
        flat = self.column([x for r in rows for x in r], [p for r in places for p in r] if places else None)
        out, k = [], 0
        for r in rows:
            out.append(flat[k:k + len(r)])
            k += len(r)
        return out

    def given(self, x, place: str) -> str:
        """A given number as the spec writes it: a constant as written (1 + sin(pi/4)), else its digits."""
        text = self.spec.written_as(place)
        return written_latex(text) if text is not None else self.num(x)

    def rel(self, x) -> str:
        """= when the printed value is exact, \\approx when printing rounded it."""
        return shown(x, self.digits).relation

    def tex(self, expr) -> str:
        """A SymPy expression in the graph's names."""
        return latex(expr, self.g.latex)

    def nums(self, expr) -> str:
        """A SymPy expression with the numbers of the pass put in."""
        return with_numbers(expr, self.g.latex, self.d.values, self.digits)

    def chain(self, lhs: str, value, *steps: str) -> Chain:
        """lhs = step = step ... (= or ~) value, dropping steps that repeat the previous one or the value."""
        final = self.num(value)
        bare = {final, rf"\left({final}\right)"}
        rows, previous = [], lhs
        for step in steps:
            if step and step != previous and step not in bare:
                rows.append(("" if rows else lhs, "=", step))
                previous = step
        rows.append(("" if rows else lhs, self.rel(value), final))
        return Chain(tuple(rows))

    @staticmethod
    def _packed(terms: list[str], room: float, per_line: int | None) -> list[list[str]]:
        """Terms in lines as wide as ``room`` digit widths (one term at least; at most ``per_line``)."""
        lines = [[]]
        for term in terms:
            line = lines[-1]
            if line and (width(" + ".join(line + [term])) + (2 if len(lines) > 1 else 0) > room
                         or len(line) == (per_line or len(terms))):
                lines.append([])
            lines[-1].append(term)
        return lines

    def sum_rows(self, lhs: str, relation: str, terms: list[str], first: bool, per_line: int | None = None) -> list[tuple]:
        """A long sum broken into lines of ``per_line`` terms (default: TERMS_PER_LINE).

        With the option ``line_width`` the lines are filled by width instead, as many terms as
        fit beside the left-hand side (at most ``per_line`` when it is given).
        """
        if not terms:
            return []
        # a page is filled by width too (LINE_WIDTH), so that "+ b" never sits alone on a line with room to spare
        line_width = self.options.line_width or (LINE_WIDTH if per_line is None else None)
        if line_width:
            lines = self._packed(terms, line_width - width(lhs) - 2, per_line)
            if len(lines) > 2 and self.options.line_width:  # a sum this long is better on the frame's full width, without the diagram
                lines = self._packed(terms, line_width * FULL_WIDTH - width(lhs) - 2, per_line)
        else:
            per_line = per_line or TERMS_PER_LINE
            lines = [terms[start:start + per_line] for start in range(0, len(terms), per_line)]
        rows = []
        for k, line in enumerate(lines):
            piece = " + ".join(line)
            rows.append((lhs if first else "", relation, piece) if k == 0 else ("", "", r"\quad {} + " + piece))
        return rows

    def fitted(self, chain: Chain) -> Chain:
        """A derivation whose rows are no wider than the option ``line_width``: a longer row goes on over the
        next rows, broken at + or −, then at · (derive.documents.layout.broken). Unchanged without the option."""
        if not self.options.line_width or not chain.rows:
            return chain
        # the rows share their left column; a continuation row is indented by a quad
        room = self.options.line_width - max(width(row[0]) for row in chain.rows) - width("=") - 4
        rows = []
        for lhs, relation, rhs in chain.rows:
            first, *rest = broken(rhs, room)
            rows += [(lhs, relation, first), *(("", "", r"\quad {} " + line.removeprefix("{} ")) for line in rest)]
        return Chain(tuple(rows))

    def layer_title(self, l: int) -> str:
        """The name of layer l as a title: Hidden layer, Output layer, Layer 2."""
        words = self.n.layer_name(l)
        return words[0].upper() + words[1:]

    def sample_note(self, s: int) -> str:
        """' (sample 2)' in a batch; nothing for a single sample."""
        return f" (sample {s + 1})" if self.spec.batch > 1 else ""
