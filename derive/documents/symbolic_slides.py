"""Lecture slides of the derivation itself: the general document, frame by frame, no numbers (or then numbers).

Each section of the general derivation (derive.documents.symbolic) becomes frames: the
network beside its diagram with the weights' names, one frame per derivative derived,
one per layer of the forward pass, one per unit of the backward pass, and the four
equations, each frame continued on the next when its derivations are long.
"""

from __future__ import annotations

from dataclasses import replace

from derive.documents.context import Context
from derive.documents.diagram import build as diagram
from derive.documents.model import Chain, Figure, Paragraph, Section, Table
from derive.documents.options import Options
from derive.documents.slides import ROWS_PER_FRAME, SLIDE_OPTIONS, Deck, Frame, split
from derive.documents.slides import _height as row_height
from derive.documents.symbolic import SymbolicWriter


#: a frame's full width as layout.width counts it (a frame without a diagram, 11 pt): a general formula longer
#: than that is broken over several rows. Measured in Beamer: rows counted 76 to 89 wide (with their left side)
#: ran 5 to 15 digit widths over the frame, rows counted 70.6 fitted; a row's relation and indent count 6.2
FRAME_WIDTH = 77


def _height(row) -> float:
    """The text lines a row takes: slides._height, a row of names with a layer's superscript and an index
    (W^{[1]}_{12}, stacked higher and lower than a letter) a quarter of a line taller."""
    return row_height(row) + (0.25 if "^{[" in row[0] + row[2] else 0)


def _cut(ctx: Context, blocks) -> list:
    """Derivations fitted to the frame's width, and cut between two quantities where one is taller than a frame."""
    pieces = []
    for block in blocks:
        if not isinstance(block, Chain):
            pieces.append(block)
            continue
        quantities = []  # a quantity's rows: the first names it
        for row in ctx.fitted(block).rows:
            if row[0] or not quantities:
                quantities.append([])
            quantities[-1].append(row)
        rows, height = [], 0.0
        for quantity in quantities:
            size = sum(_height(row) for row in quantity)
            if rows and height + size > ROWS_PER_FRAME:
                pieces.append(Chain(tuple(rows)))
                rows, height = [], 0.0
            rows += quantity
            height += size
        pieces.append(Chain(tuple(rows)))
    return pieces


def _frames(ctx: Context, title: str, blocks, heading=None) -> list[Frame]:
    """A section's blocks as frames (derivations fitted to the frame, paragraphs, tables), continued where they are
    long."""
    shown = tuple(_cut(ctx, [b for b in blocks if isinstance(b, (Chain, Paragraph, Table))]))
    if not shown:
        return []
    frames = []
    for table in (b for b in shown if isinstance(b, Table)):  # a table on a frame of its own
        frames.append(Frame(f"{title}: {table.caption}" if table.caption else title, (table,), None, "table"))
    rest = tuple(b for b in shown if not isinstance(b, Table))
    if rest:
        frames = split(Frame(title, rest, None, heading=heading), _height) + frames
    return frames


def _section_frames(ctx: Context, section: Section, title: str | None = None) -> list[Frame]:
    """Frames of a section: its own blocks, then each subsection's."""
    title = title or section.title
    own = [b for b in section.blocks if not isinstance(b, Section)]
    frames = _frames(ctx, title, own, section.heading)
    for inner in section.blocks:
        if isinstance(inner, Section):
            frames += _section_frames(ctx, inner, inner.title if inner.level > 2 else f"{title}: {inner.title}")
    return frames


def deck(solution, options: Options = replace(SLIDE_OPTIONS, symbolic="general")) -> Deck:
    """The slides of the general derivation (the options' ``symbolic``: 'general' or 'then-numbers')."""
    ctx = Context(solution, replace(options, line_width=options.line_width or FRAME_WIDTH))
    document = SymbolicWriter(ctx, reason=r" \quad ").document()
    frames = [Frame(document.title, (), None, "title")]
    network, *sections = document.sections
    blocks = [b for b in network.blocks if isinstance(b, (Paragraph, Chain))]
    figure = next((b.diagram for b in network.blocks if isinstance(b, Figure)), None)
    frames.append(Frame("The network", tuple(blocks[:2]), figure or diagram(solution, "names"), "network"))
    frames += _frames(ctx, "The loss and the update", blocks[2:])
    derivatives, *rest = sections
    own = [b for b in derivatives.blocks if not isinstance(b, Section)]
    # one derivative per frame: each starts with the sentence that introduces it
    groups, current = [], []
    for block in own[1:]:
        if isinstance(block, Paragraph) and current and isinstance(current[-1], Chain):
            groups.append(current)
            current = []
        current.append(block)
    groups.append(current)
    for group in groups:
        frames += _frames(ctx, derivatives.title, group)
    for section in rest:
        frames += _section_frames(ctx, section)
    return Deck(document.title, document.subtitle, tuple(frames), meta=document.meta)
