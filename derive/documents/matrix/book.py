"""The matrix form in a textbook's symbols: Hagan's n^m, s^m and F, deeplearning.ai's Z, A, dZ, dW and J, Nielsen's w^l.

The matrix sections are written in derive's matrix names (z^{[l]}, a^{[l]}, delta^{[l]}, W^{[l]},
b^{[l]}, E). A book with a matrix form of its own has them renamed, symbol by symbol, in
every piece of mathematics of those sections; the scalar names inside (a book's own, such
as Hagan's n^{1}_{2}) carry no bracketed layer and are left as they are. A book without a
matrix form (Han, Kamber & Pei; Mitchell; the blog) keeps derive's matrix names, and one
sentence says which of the book's quantities their entries are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from derive.documents.model import Chain, M, P, Paragraph, Section, Table


@dataclass(frozen=True)
class MatrixSymbols:
    """A book's matrix symbols in place of derive's (None: derive's own)."""

    z: str
    a: str
    delta: str
    weight: str
    loss: str
    brackets: bool  # layers as z^{[l]} (True) or as n^{l}
    gradients: bool = False  # dW^{[l]} for the loss's derivative by a matrix (deeplearning.ai)


#: the books that write backpropagation with matrices; the others have none
MATRIX_FORMS = {
    "hagan": MatrixSymbols("n", "a", "s", "W", "F", brackets=False),
    "nielsen": MatrixSymbols("z", "a", r"\delta", "w", "C", brackets=False),
    "deeplearning-ai": MatrixSymbols("Z", "A", "dZ", "W", "J", brackets=True, gradients=True),
    "pytorch": MatrixSymbols("z", "a", r"\delta", "W", r"\mathcal{L}", brackets=True),
}

_SYMBOL = r"(?<![A-Za-z\\])({names})\^\{{\[([^\]]+)\]"


def rename(book, symbols: MatrixSymbols, latex: str) -> str:
    """One piece of the matrix form's LaTeX in the book's symbols."""
    offset = book.layer_offset

    def layer(index: str) -> str:
        index = index.strip("{}")
        return str(int(index) + offset) if index.isdigit() else index

    def sup(index: str) -> str:
        return f"^{{[{layer(index)}]" if symbols.brackets else f"^{{{layer(index)}"

    if symbols.gradients:  # dJ/dW^{[l]} is written dW^{[l]}, dJ/da^{[l]} dA^{[l]} (dJ/dz^{[l]} stays: dZ^{[l]} is its name)
        latex = re.sub(r"\\frac\{\\partial E\}\{\\partial ([Wba])\^\{\[([^\]]+)\]\}\}",
                       lambda m: f"d{m[1].upper() if m[1] in 'az' else m[1]}^{{[{m[2]}]}}", latex)
        latex = re.sub(r"\\partial E/\\partial ([Wba])\^\{\[([^\]]+)\]\}",
                       lambda m: f"d{m[1].upper() if m[1] in 'az' else m[1]}^{{[{m[2]}]}}", latex)
    latex = re.sub(r"(?<![A-Za-z\\])W(?=\^\{\+\}| - )", symbols.weight, latex)  # the update's generic W
    table = {"z": symbols.z, "Z": symbols.z.upper() if symbols.z.islower() else symbols.z,
             "a": symbols.a, "A": symbols.a.upper(), r"\delta": symbols.delta,
             r"\Delta": symbols.delta if symbols.delta == "dZ" else {"s": "S"}.get(symbols.delta, r"\Delta"),
             "W": symbols.weight, "b": "b", "dW": "dW", "db": "db", "dA": "dA"}
    pattern = _SYMBOL.format(names="|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))
    latex = re.sub(pattern, lambda m: table[m[1]] + sup(m[2]), latex)
    plain = {"x": book.input.latex, "X": book.input.latex.upper(), "t": book.target.latex, "T": book.target.latex.upper()}
    latex = re.sub(r"(?<![A-Za-z\\{])([xXtT])(?![A-Za-z}])", lambda m: plain[m[1]], latex)
    latex = re.sub(r"\\eta(?![A-Za-z])", lambda m: book.rate.latex, latex)
    return re.sub(r"\\partial E(?![A-Za-z_])", lambda m: rf"\partial {symbols.loss}", latex)


def _block(block, write):
    """A block of a document with every piece of mathematics rewritten."""
    if isinstance(block, Paragraph):
        return Paragraph(tuple((kind, write(text) if kind == "math" else text) for kind, text in block.parts))
    if isinstance(block, Chain):
        return Chain(tuple(tuple(write(cell) for cell in row) for row in block.rows))
    if isinstance(block, Table):
        header = tuple(replace(h, latex=write(h.latex)) if hasattr(h, "latex") else h for h in block.header)
        rows = tuple(tuple(write(c) if kind == "math" else c for c, kind in zip(row, block.kinds)) for row in block.rows)
        summary = None if block.summary is None else tuple(_block(b, write) for b in block.summary)
        return replace(block, header=header, rows=rows, summary=summary)
    if isinstance(block, Section):
        return in_book(block, write)
    return block


def in_book(section: Section, write) -> Section:
    """A section with its mathematics rewritten by ``write``."""
    heading = _block(section.heading, write) if isinstance(section.heading, Paragraph) else section.heading
    return replace(section, blocks=tuple(_block(b, write) for b in section.blocks), heading=heading)


def network(ctx, section: Section) -> Section:
    """The network section's matrices in the book's symbols (a book without a matrix form: as written)."""
    book = ctx.book
    symbols = MATRIX_FORMS.get(book.key) if book is not None else None
    return section if symbols is None else in_book(section, lambda latex: rename(book, symbols, latex))


def sections(ctx, found: list) -> list:
    """The matrix sections in the convention's symbols, or with a sentence mapping derive's matrix names to the book's."""
    book = ctx.book
    if book is None or book.key == "blog":
        return found
    symbols = MATRIX_FORMS.get(book.key)
    if symbols is not None:
        return [in_book(s, lambda latex: rename(book, symbols, latex)) for s in found]
    n, last = ctx.n, ctx.spec.layers
    note = P(f"{book.title} has no matrix form; the matrices below use the usual matrix names "
             "of a layer: entry j of ", M(r"z^{[l]}"), " is the net input of unit j (", M(n.net(last, 0, 0).latex),
             " for the first output unit), of ", M(r"a^{[l]}"), " its output (", M(n.out(last, 0, 0).latex),
             "), and of ", M(r"\delta^{[l]} = \partial E/\partial z^{[l]}"), " its error term (",
             M(rf"\delta^{{[{last}]}}_1 = {n.delta(last, 0, 0).latex}"), ").")
    first = found[0]
    return [replace(first, blocks=(note, *first.blocks)), *found[1:]]
