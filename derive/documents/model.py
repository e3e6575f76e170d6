"""The document model every format renders: sections of paragraphs, derivation chains, tables, plots.

Python decides what a document says (this model); the templates in ``templates/``
decide how each format writes it. Text parts are plain text (escaped by each
format), math parts are LaTeX (never escaped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from derive.documents.metadata import Metadata


@dataclass(frozen=True)
class Math:
    """Inline mathematics (LaTeX)."""

    latex: str


@dataclass(frozen=True)
class Paragraph:
    """Running text: a sequence of ('text', str) and ('math', latex) parts."""

    parts: tuple


def printed(latex: str) -> str:
    """LaTeX as it prints: without the sizing of brackets, braces and spaces (\\tanh(z) and \\tanh{\\left(z\\right)} alike)."""
    return re.sub(r"\\(?:left|right|bigl|bigr|Bigl|Bigr)\b|\\[,;! ]|[{}\s]", "", latex)


def distinct_steps(rows) -> tuple:
    """Rows without a step that prints as the one before it; a step is a row with its continuation rows."""
    steps = []
    for row in rows:
        if steps and not row[0] and not row[1]:  # a continuation row: part of the step before it
            steps[-1].append(row)
        else:
            steps.append([row])
    kept = []
    for step in steps:
        if kept and not step[0][0] and step[0][1] == "=" and \
                printed(" ".join(r[2] for r in step)) == printed(" ".join(r[2] for r in kept[-1])):
            continue
        kept.append(step)
    return tuple(row for step in kept for row in step)


@dataclass(frozen=True)
class Chain:
    """A derivation displayed as aligned rows: (left side, relation, right side); a step that prints as the
    one before it is dropped."""

    rows: tuple

    def __post_init__(self):
        object.__setattr__(self, "rows", distinct_steps(self.rows))


@dataclass(frozen=True)
class Table:
    """A table; ``kinds`` says per column whether cells are 'math' or 'text'."""

    header: tuple
    rows: tuple
    kinds: tuple
    align: str
    caption: str = ""
    #: in a large network's worked solution: the blocks that stand for this table in the text (a summary),
    #: the table itself printed in the appendix of tables (derive.documents.handout); None: printed here
    summary: tuple | None = None


@dataclass(frozen=True)
class Plot:
    """A line plot of y against x (the loss history)."""

    xs: tuple
    ys: tuple
    xlabel: str
    ylabel: str
    caption: str
    svg_name: str  # the picture file the Markdown links to

    @property
    def coordinates(self) -> str:
        """pgfplots coordinates: (x,y) pairs."""
        return " ".join(f"({x},{y!r})" for x, y in zip(self.xs, self.ys))


@dataclass(frozen=True)
class Figure:
    """A network diagram (derive.diagram.Diagram): TikZ in LaTeX, an SVG file beside the Markdown."""

    diagram: object
    svg_name: str

    @property
    def caption(self) -> str:
        return self.diagram.caption


@dataclass(frozen=True)
class Section:
    title: str
    level: int
    blocks: tuple
    label: str = ""
    heading: object = None  # the title with its names as mathematics (a Paragraph), where it has any
    appendix: bool = False  # after the main text, lettered instead of numbered


#: the appendix that says how a solution's numbers were checked (Options.verification)
CHECKED_TITLE = "How these numbers were checked"


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    sections: tuple
    #: the course, lecturer, date and institution on the title block and running head (none by default)
    meta: Metadata = Metadata()


def P(*parts) -> Paragraph:
    """A paragraph from strings (text) and Math parts."""
    out = []
    for part in parts:
        if isinstance(part, Math):
            out.append(("math", part.latex))
        elif part:
            out.append(("text", str(part)))
    return Paragraph(tuple(out))


def M(latex: str) -> Math:
    return Math(latex)


#: a longer series is drawn from a downsampled one (TeX's buffers and the eye hold about this many points)
MAX_POINTS = 1000


def downsample(xs, ys, limit: int = MAX_POINTS) -> tuple[list, list]:
    """At most ``limit`` points of a series that keep its shape: each bucket's first, lowest, highest, last.

    A series of at most ``limit`` points is returned as it is; a longer one is cut into
    ``limit // 4`` buckets of consecutive points, and each bucket keeps those four, in order,
    so that every spike and the first and last points survive.
    """
    xs, ys = list(xs), list(ys)
    if len(xs) <= limit:
        return xs, ys
    buckets = limit // 4
    keep = set()
    for b in range(buckets):
        start, stop = len(xs) * b // buckets, len(xs) * (b + 1) // buckets
        chunk = range(start, stop)
        keep.update((start, stop - 1, min(chunk, key=ys.__getitem__), max(chunk, key=ys.__getitem__)))
    order = sorted(keep)
    return [xs[k] for k in order], [ys[k] for k in order]
