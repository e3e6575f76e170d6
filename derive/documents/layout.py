"""How wide printed mathematics is, and the pieces displayed formulas are made of.

The widths are rough (digit widths, a LaTeX command by a table), enough to decide
where a long sum breaks, whether a matrix fits a line of the page or a column beside
a slide's diagram, and how many tables a wide matrix is split into.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: matrix columns per table (and per typeset matrix), so that tables fit a printed page
COLUMNS_PER_TABLE = 6
#: the most rows a matrix is typeset with; a taller one is shown as a table
MATRIX_ROWS = 8
#: the width of a displayed line in digit widths (about 85 digits fit the A4 text width at 11 pt)
LINE_WIDTH = 78
#: how wide a LaTeX command prints, in digit widths (a command not listed: 1)
_COMMAND_WIDTHS = {"left": 0, "right": 0, "bigl": 0.5, "bigr": 0.5, "Bigl": 0.6, "Bigr": 0.6, "quad": 2,
                   "qquad": 4, ",": 0.3, ";": 0.5, "!": 0, " ": 0.5, "cdot": 1.5, "odot": 2.2, "approx": 2.2,
                   "mathrm": 0, "operatorname": 0, "text": 0, "top": 1.2, "partial": 1, "ln": 2, "max": 3,
                   "lVert": 0.8, "rVert": 0.8, "sum": 2,
                   # function names as wide as their upright letters
                   "sinh": 3.5, "cosh": 3.8, "tanh": 4, "exp": 3}


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
        if tex.startswith("\\text{", i):  # words: their spaces are as wide as their letters nearly
            words, i = _group(tex, i + len("\\text"))
            total += width(words) + 0.7 * words.count(" ")
            continue
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
    """A piece of LaTeX with its width."""
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
    """The columns of a matrix as rows."""
    return [list(column) for column in zip(*entries)]


def paren(tex: str) -> str:
    """A negative number parenthesised inside a product."""
    return rf"\left({tex}\right)" if tex.startswith("-") else tex


_NO_CUT_AFTER = ("=", "+", "-", ",", "(", "{", "\\cdot", "\\quad")


def _after_delimiter(tex: str, i: int) -> int:
    """The index after the delimiter of a \\left or \\right that ends at tex[i]."""
    return _COMMAND.match(tex, i).end() if tex.startswith("\\", i) else i + 1


def _operands(tex: str, operators: tuple[str, ...]) -> list[tuple[str, str]]:
    """tex cut before each of ``operators`` ('+', '-', 'cdot') outside braces and parentheses: (operator, operand)
    pairs, the first operator ''. A sign that opens the formula is not a cut."""
    parts, depth, start, op, i = [], 0, 0, "", 0
    while i < len(tex):
        c = tex[i]
        cut = None
        if c == "\\":
            name = _COMMAND.match(tex, i)
            i = name.end()
            if name.group(1) in ("left", "right"):
                depth += 1 if name.group(1) == "left" else -1
                i = _after_delimiter(tex, i)
            elif depth == 0 and name.group(1) in operators:
                cut = name.group(1), name.start(), i
        else:
            depth += 1 if c in "{([" else -1 if c in "})]" else 0
            # a sign after a relation, an opening or another operator is unary: no cut there
            before = tex[start:i].rstrip()
            if depth == 0 and c in "+-" and c in operators and before and not before.endswith(_NO_CUT_AFTER):
                cut = c, i, i + 1
            i += 1
        if cut:
            parts.append((op, tex[start:cut[1]].strip()))
            op, start = ("\\" + cut[0] if len(cut[0]) > 1 else cut[0]), cut[2]
    parts.append((op, tex[start:].strip()))
    return parts


def _group_end(tex: str) -> int | None:
    """Where the \\left( ... \\right) group that opens tex ends (the index after its closing delimiter), or None."""
    if not tex.startswith("\\left("):
        return None
    depth, i = 0, 0
    while i < len(tex):
        name = _COMMAND.match(tex, i) if tex[i] == "\\" else None
        if name and name.group(1) in ("left", "right"):
            depth += 1 if name.group(1) == "left" else -1
            i = _after_delimiter(tex, name.end())
            if depth == 0:
                return i
            continue
        i = name.end() if name else i + 1
    return None


def broken(tex: str, room: float) -> list[str]:
    """A long formula in lines about ``room`` digit widths wide, as a typesetter breaks it: at + and − outside
    parentheses first, then at · (or between parenthesised factors side by side), then inside the parentheses
    that open it. Each line after the first begins
    with its operator (the caller indents it); a formula that cannot be broken stays one line."""
    if width(tex) <= room:
        return [tex]
    formula, *note = _operands(tex, ("quad",))
    if note:  # the words after a quad (the rule a step uses) stay whole: after the formula, or on a line below
        *lines, last = broken(formula[1], room)
        words = " ".join(f"{op} {words}" for op, words in note)
        return [*lines, f"{last} {words}"] if width(f"{last} {words}") <= room else [*lines, last, words]
    for operators in (("+", "-"), ("cdot",)):
        parts = _operands(tex, operators)
        if len(parts) == 1:
            continue
        lines = []  # [operator, operands]: as many operands on a line as fit
        for op, operand in parts:
            if lines and width(lines[-1][0]) + width(f"{lines[-1][1]} {op} {operand}") <= room:
                lines[-1][1] += f" {op} {operand}"
            else:
                lines.append([op, operand])
        out = []
        for op, text in lines:  # an operand wider than a line is broken in turn
            inner = broken(text, room - width(op) - 1)
            out += [f"{op} {inner[0]}".strip(), *inner[1:]]
        return out
    end = _group_end(tex)
    if end is None:
        return [tex]
    tail = tex[end:].strip()
    if tail and not tail.startswith(("^", "_")):  # factors side by side: broken between them, marked with a dot
        head, rest = broken(tex[:end], room), broken(tail, room - 2)
        return [*head, rf"\cdot {rest[0]}", *rest[1:]]
    inner, tail = tex[len("\\left("):end - len("\\right)")].strip(), tex[end:]
    lines = broken(inner, room - 1)
    if len(lines) == 1:
        return [tex]
    # parentheses broken over lines: as tall as a line, unless a fraction inside needs them taller
    # ({} keeps the operator that opens a line binary)
    tall = "frac{" in inner
    first, middle, last = ((r"\left(", r"\right."), (r"\left. {}", r"\right."), (r"\left. {}", r"\right)")) if tall \
        else (("(", ""), ("{}", ""), ("{}", ")"))
    rows = [f"{first[0]} {lines[0]} {first[1]}".strip()]
    rows += [f"{middle[0]} {line} {middle[1]}".strip() for line in lines[1:-1]]
    rows.append(f"{last[0]} {lines[-1]} {last[1]}{tail}".strip())
    return rows
